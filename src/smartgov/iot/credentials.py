"""Device credentials: a random secret, kept only as Mosquitto's PBKDF2-SHA512 hash (``$7$<iterations>$
<salt>$<hash>``, base64), so the broker's password file is written from the device table and HTTP ingest
checks the same secret."""

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101  # mosquitto_passwd's default for $7$


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_secret(secret: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        mine = hashlib.pbkdf2_hmac("sha512", secret.encode(), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(mine, base64.b64decode(digest))
