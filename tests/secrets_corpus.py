"""A small corpus that makes every default detect-secrets plugin and filter act.

Used by the differential tests: the gate's engine must find exactly what
``detect-secrets scan`` finds on it. The "secrets" are well-known documentation
examples or random test strings, never real credentials.
"""

from __future__ import annotations

import json
from pathlib import Path

B64 = "Tm90QVJlYWxTZWNyZXRKdXN0VGVzdERhdGE0MnhZcVp3UnRVaU9w"
HEX = "8f3a9c1be07d4b265a1fc3e9d08b7a64"

KEYWORDS = {
    "app/settings.py": f'PASSWORD = "hunter2hunter2x"\nAPI_KEY = "{B64}"\ntoken = get_token()\n',
    "web/config.js": "const apiKey = 'aZ9xQ2wE4rT6yU8i';\nlet password = \"s3cr3tPassw0rd!\";\n",
    "svc/main.go": 'package main\n\nfunc main() {\n\tsecret := "gOlAnGsEcReT123"\n}\n',
    "svc/App.java": 'class App {\n  String password = "j4v4Secret99";\n}\n',
    "svc/App.cs": 'var connectionPassword = "cSharpP4ss!";\n',
    "svc/index.php": '<?php\n$db_password = "phpSecretValue1";\n',
    "deploy/env.sh": "export SECRET_KEY=shellSecret0987\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
    "deploy/values.yaml": "database:\n  password: yamlSecretPw55\n  user: admin\n",
    "deploy/app.ini": "[server]\npassword = iniSecretWord77\nhost = example.org\n",
    "deploy/app.cfg": "[auth]\napi_key = cfgKeyValue31415\n",
    "data/creds.json": json.dumps({"password": "jsonSecretPw66", "hex": HEX}, indent=2) + "\n",
}

TOKENS = "\n".join([
    "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
    'artifactory = "AKCp5bJxWvLsaHXs3CnNfSyPNuTBdYLtZGWZ3vhmyoXmbfHSZFo7qk7S8sfUZGMGR1eKQaA7p"',
    "azure = 'AccountKey=lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ=='",
    "url = 'https://alice:n0tApassw0rd@example.com/path'",
    "discord = 'MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs'",
    "gh = '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'",
    "gl = 'glpat-hJ2DrAYsCsXC7uYmYSMo'",
    "ibm_cloud_iam_api_key = 'abcd1234abcd1234abcd1234abcd1234abcd1234abcd'",
    "secret_access_key = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f'",
    "server = '203.0.113.77'",
    "jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",  # noqa: E501
    "mc = 'f0e1d2c3b4a5968778695a4b3c2d1e0f-us12'",
    "npmrc = '//npm.example.invalid/:_authToken=npm_Zx81kQp3LmN5rT7vW9yB2dF4hJ6'",
    "openai = 'sk-abcdefghij1234567890T3BlbkFJabcdefghij1234567890'",
    "pypi = 'pypi-AgEIcHlwaS5vcmcCJGE4ZjMyYjIyLTQ2YjEtNDk2ZS04ZTRiLTQ2YmU4YTY5ZjU0ZAACJXsicGVybWlzc2lvbnMiOiAidXNlciIsICJ2ZXJzaW9uIjogMX0AAAYg'",  # noqa: E501
    "sendgrid = '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'",
    "slack = 'xoxb-34532454-e039d02840a0b9379c'",
    "softlayer_api_key = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789'",
    "square = 'sq0csp-ABCDEFGHIJK_LMNOPQRSTUVWXYZ123456789abcdefg'",
    "stripe = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'",
    "telegram = '110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx'",
    "twilio = 'SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
    "cloudant_password = '" + "0123456789abcdef" * 4 + "'",
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEA0examplekeymaterialnotreal",
    "-----END RSA PRIVATE KEY-----",
]) + "\n"

FILTERED = "\n".join([
    'password = "allowedValue123"  # pragma: allowlist secret',
    "# pragma: allowlist nextline secret",
    'password = "nextLineAllowed9"',
    'password = get_password("x")',
    "api_key = request.headers['apikey']",
    'password = "{password}"',
    'password = "<password>"',
    'password = "${PASSWORD}"',
    'password = "$PASSWORD"',
    'secret = "abcdefghijklmnopqrstuvwxyz"',
    'api_key = "3d6f0a9e-1c2b-4a5d-8e7f-9a0b1c2d3e4f"',
    f'user_id = "{HEX}"',
    'password = "**********"',
]) + "\n"


def _table() -> str:
    rows = []
    for i in range(12):
        cells = [f"``opt_{i}``", f"Default: ``{i}``", "what it does " + "x" * (i * 7)]
        rows.append("| " + " | ".join(c.ljust(150) for c in cells) + " |")
    rows.insert(5, "| ``token`` | " + " " * 200 + f'password: "{B64}"' + " " * 100 + "|")
    return "\n".join(rows) + "\n"


def _notebook() -> str:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
            "source": ["import os\n", f"token = '{B64}'\n", "print(1)\n"]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
                      indent=1) + "\n"


def files() -> dict[str, bytes]:
    """Relative path -> content of every corpus file."""
    text = {
        **KEYWORDS,
        "app/tokens.py": TOKENS,
        "app/filtered.py": FILTERED,
        "docs/table.rst": _table(),
        "notebooks/analysis.ipynb": _notebook(),
        "app/long_line.py": "x = [" + ", ".join(f"'v{i}'" for i in range(300)) + "]\n"
        + "password = get_secret(" + " " * 990 + ")  # with a long call\n"
        + 'password = "longLineSecret42"' + " " * 1000 + "# trailing\n",
        "package-lock.json": json.dumps({"integrity": f"sha512-{B64}{B64}"}) + "\n",
        "api/swagger.yaml": "paths:\n  password: swaggerSecretPw1\n",
        "app/README.md": "Run with password: mdSecretPassw0rd\n",
    }
    out = {path: body.encode() for path, body in text.items()}
    out["data/latin1.txt"] = 'caf\xe9 password = "latinSecret1"\n'.encode("latin-1")
    out["data/blob.dat"] = b"\x00\x01\xff\xfe password = 'binarySecret1'\n\x00"
    out["static/logo.png"] = b'password = "pngSecretValue1"\n'
    return out


def write(root: Path) -> list[str]:
    """Write the corpus under ``root``; its relative paths, sorted."""
    for path, body in files().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return sorted(files())
