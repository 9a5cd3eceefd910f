import pytest

from shop.cart import Cart
from shop.shipping import shipping


def test_total_adds_up():
    cart = Cart()
    cart.add("tea", 450, quantity=2)
    cart.add("mug", 1200)
    assert cart.total() == 2100
    assert cart.count() == 3


def test_quantity_must_be_positive():
    with pytest.raises(ValueError):
        Cart().add("tea", 450, quantity=0)


def test_label():
    cart = Cart()
    cart.add("tea", 1250)
    assert cart.label() == "12.50"


def test_small_orders_pay_shipping():
    assert shipping(1000) == 495


def test_large_orders_ship_free():
    assert shipping(5000) == 0
