# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (FastAPI course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Authentication and authorization
#
# Who is calling (authentication: a password once, then a signed token on every request)
# and what may they do (authorization: roles, and ownership of each object). Every attack
# in this lesson is run against the real app and every defence is shown working.
#
# **Objectives.** After this lesson you can
#
# - hash passwords with pwdlib and Argon2id, and say why passlib-based code broke;
# - run the OAuth2 password flow (`POST /api/auth/token`, a form) and use the bearer token;
# - read the seeds' python-jose code, name five things wrong with it, and migrate it to PyJWT
#   with an explicit algorithm list and required claims — keeping old tokens valid;
# - show that forged tokens (`alg: none`, wrong key, expired, missing claims, wrong audience
#   or issuer, a refresh token used as an access token) are rejected;
# - protect routes with a role dependency (`require_role`) and objects with ownership
#   checks that answer 404, not 403;
# - rotate refresh tokens, detect their reuse, and rate-limit login;
# - walk the seed's 10-point security checklist, each point checked by a cell.
#
# **Time estimate:** about 60 minutes (lesson) + 40 minutes (lab `exercises/05_auth.ipynb`).
#
# **Prerequisites:** lessons 01–04 (the app factory, `Settings`, schemas, the error
# envelope); what an HTTP header is. No cryptography background needed.

# %% [markdown]
# ## Set-up
#
# Everything runs in-process on a SQLite file in a temporary folder. `DEMO_SECRET` is a
# fixed, public value so that this notebook is reproducible; a real deployment reads
# `JWT_SECRET` from the environment (lesson 02).

# %%
import importlib.metadata as metadata
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt  # PyJWT
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from course_app.config import Settings, SettingsError, load_settings
from course_app.core import security

workdir = tempfile.TemporaryDirectory(prefix="lesson05-")
DB_PATH = Path(workdir.name) / "shop.db"
DEMO_SECRET = "lesson-05-demo-secret-public-do-not-reuse-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery staple"

# %% [markdown]
# ## 1. Passwords: pwdlib with Argon2id
#
# A password is never stored, only a **slow, salted hash** of it. `course_app.core.security`
# uses [pwdlib](https://frankie567.github.io/pwdlib/) with Argon2id, the winner of the
# Password Hashing Competition and the first choice of OWASP's password storage cheat sheet.
# A hash carries its own algorithm, parameters and random salt, so the same password gives a
# different string every time and a verifier needs nothing but the string:

# %%
REAL = security.password_hash  # the app's hasher: Argon2id with pwdlib's default parameters
stored = REAL.hash(PASSWORD)
algorithm, version, parameters, salt, digest = stored.split("$")[1:]
print("algorithm :", algorithm, version)
print("parameters:", parameters, " (memory KiB, iterations, lanes)")
print("salt and digest:", len(salt), "and", len(digest), "base64 characters")
print("same password, new hash:", REAL.hash(PASSWORD) != stored)
print("verify right password  :", REAL.verify(PASSWORD, stored))
print("verify wrong password  :", REAL.verify("correct horse battery stapler", stored))

# %% [markdown]
# *Slow* is the feature: an attacker who steals the table must pay the same cost for every
# guess. A general-purpose hash such as SHA-256 is built to be fast, which is exactly wrong
# here. Measured on this machine:

# %%
# NBVAL_IGNORE_OUTPUT
import hashlib
import statistics


def cost(action: Any, repeat: int = 5) -> float:
    """Median wall time of ``action()`` in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


sha = cost(lambda: hashlib.sha256(PASSWORD.encode()).hexdigest(), repeat=50)
argon = cost(lambda: REAL.verify(PASSWORD, stored))
print(f"SHA-256: {sha * 1e6:.1f} µs   Argon2id verify: {argon * 1e3:.0f} ms   "
      f"ratio: {argon / sha:,.0f}×")
print(f"guesses per second per core: SHA-256 {1 / sha:,.0f}, Argon2id {1 / argon:,.0f}")
assert argon > 1000 * sha, "Argon2 should be orders of magnitude slower than SHA-256"

# %% [markdown]
# Argon2 has no length limit of its own. bcrypt, the other algorithm the seed's checklist
# allows, only reads the first **72 bytes** of a password: older versions silently ignored
# the rest, and bcrypt 5.0 raises `ValueError` instead. With Argon2 two long passphrases that
# differ only at the end are different passwords:

# %%
long_one = "my favourite line of poetry is longer than seventy-two bytes, as many are: " + "A"
long_two = long_one[:-1] + "B"
print("length in bytes:", len(long_one.encode()))
print("second verifies against the first's hash:", REAL.verify(long_two, REAL.hash(long_one)))

# %% [markdown]
# ### Why the seeds' era of code broke: passlib
#
# Most FastAPI tutorials written before 2024 hash with `passlib.context.CryptContext(
# schemes=["bcrypt"])`. That code now breaks for reasons outside your repository:
#
# - passlib's last release, 1.7.4, is from October 2020; the project is unmaintained.
# - bcrypt 4.1 (late 2023) removed the `bcrypt.__about__` module passlib reads the version
#   from: every start-up logs `(trapped) error reading bcrypt version … AttributeError:
#   module 'bcrypt' has no attribute '__about__'` (pyca/bcrypt issue #684).
# - bcrypt 5.0 (September 2025) raises `ValueError` for passwords over 72 bytes. passlib's
#   start-up self-test deliberately hashes a longer password, so `CryptContext.hash()` now
#   fails with *"password cannot be longer than 72 bytes"* even for a 10-byte password
#   (pyca/bcrypt issues #1079 and #1082). Teams pinned `bcrypt<5` to get logins back.
#
# FastAPI's own documentation moved its security tutorial to pwdlib, and so does this course.
# passlib is not installed in this environment at all, and nothing imports it:

# %%
import importlib.util

for name in ["passlib", "bcrypt", "pwdlib", "argon2"]:
    found = importlib.util.find_spec(name) is not None
    print(f"{name:8} installed: {found}")
print("course_app hashers:", [type(h).__name__ for h in REAL.hashers])

# %% [markdown]
# Parameters are not forever: hardware gets faster, and the right cost goes up. Because each
# hash records its own parameters, pwdlib's `verify_and_update` verifies an old hash and
# hands back a new one when the parameters differ; `AuthService.login` stores it, the only
# moment the plain password is at hand. Here an account hashed with weak parameters is
# upgraded on its next login:

# %%
WEAK = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
old = WEAK.hash(PASSWORD)
valid, upgraded = REAL.verify_and_update(PASSWORD, old)
print("old parameters:", old.split("$")[3], "-> valid:", valid)
print("new parameters:", upgraded.split("$")[3] if upgraded else None)
print("an up-to-date hash needs no update:", REAL.verify_and_update(PASSWORD, stored)[1])

# %% [markdown]
# ## 2. The lesson-05 app, assembled from its layers
#
# The app grows by composition, as in every lesson: settings, logging, the lifespan (database,
# rate limiter), the error envelope and health from lessons 01–04, and now the `auth`,
# `users`, `products` and `orders` features. `create_app()` includes the same layers (plus
# the middleware of lesson 08).
#
# One deliberate shortcut, the same one the app's test suite takes (`tests/conftest.py`):
# Argon2 is slow by design (section 1 measured it), so for the requests of this notebook the
# app hashes with cheap parameters. Section 1 used the real ones.

# %%
from fastapi import FastAPI
from fastapi.testclient import TestClient

from course_app.core.errors import install_error_handlers
from course_app.core.logging import configure_logging
from course_app.features.auth.router import include_auth
from course_app.features.health.router import include_health
from course_app.features.orders.router import include_orders
from course_app.features.products.router import include_products
from course_app.features.users.router import include_users
from course_app.main import build_lifespan

security.password_hash = WEAK  # cheap hashing for this notebook's requests only
security._dummy_hash.cache_clear()

settings = load_settings(
    _env_file=None, environment="test", database_url=f"sqlite+aiosqlite:///{DB_PATH}",
    jwt_secret=DEMO_SECRET, login_rate_limit=3, log_level="ERROR",
)
configure_logging(settings)
app = FastAPI(title="Lesson 05 Shop", lifespan=build_lifespan(settings))
app.state.settings = settings
install_error_handlers(app)
for include in [include_health, include_auth, include_users, include_products, include_orders]:
    include(app)

client = TestClient(app).__enter__()  # lifespan runs until the last cell closes it
print(*sorted(app.openapi()["paths"]), sep="\n")

# %% [markdown]
# Three people for the rest of the lesson: Alice and Bob register through the API like any
# customer. Carol is the shop's admin. Registration never lets a caller choose a role, so an
# operator promotes her in the database (a parameterised query, as it must be):

# %%
import sqlite3


def register(email: str, name: str) -> int:
    answer = client.post(
        "/api/users", json={"email": email, "full_name": name, "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


alice_id, bob_id, carol_id = (
    register(f"{name.lower()}@example.com", name) for name in ["Alice", "Bob", "Carol"]
)
with sqlite3.connect(DB_PATH) as db:
    db.execute("UPDATE users SET role = ? WHERE email = ?", ("admin", "carol@example.com"))
print("ids:", alice_id, bob_id, carol_id)
print("a caller cannot pick a role:", client.post("/api/users", json={
    "email": "mallory@example.com", "full_name": "M", "password": PASSWORD, "role": "admin",
}).json()["error"]["code"])

# %% [markdown]
# ## 3. The OAuth2 password flow
#
# OAuth2's *password grant* is the simplest flow: the client posts `username` and `password`
# as an HTML **form** to the token URL and gets a bearer token back. It is what the
# "Authorize" button of `/docs` sends, which is why `course_app` speaks it at
# `/api/auth/token` (and offers the same as JSON at `/api/auth/login` for a first-party
# front end). The response must not be cached (`Cache-Control: no-store`, RFC 6749 §5.1):

# %%
answer = client.post(
    "/api/auth/token", data={"username": "alice@example.com", "password": PASSWORD}
)
pair = answer.json()
print(answer.status_code, "| Cache-Control:", answer.headers["cache-control"])
print({key: (value if key in {"token_type", "expires_in"} else value[:20] + "…")
       for key, value in pair.items()})
print("JSON instead of a form:", client.post("/api/auth/token", json={
    "username": "alice@example.com", "password": PASSWORD}).status_code)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

# %% [markdown]
# A JWT is three base64url parts: a header, the claims, and a signature over both. The
# first two are **readable by anyone** — a JWT is signed, not encrypted — so never put
# anything secret in it. Decoding without verification is fine for *looking*, never for
# trusting:

# %%
access = pair["access_token"]
print("parts:", len(access.split(".")))
print("header:", jwt.get_unverified_header(access))
claims = jwt.decode(access, options={"verify_signature": False})
print("claims:", sorted(claims))
print("sub:", claims["sub"], "| type:", claims["type"], "| iss:", claims["iss"],
      "| aud:", claims["aud"])
print("lifetime:", timedelta(seconds=claims["exp"] - claims["iat"]), "| role in token:",
      "role" in claims)

# %% [markdown]
# The token goes in the `Authorization: Bearer …` header of every request. Without it, the
# app answers 401 with `WWW-Authenticate: Bearer` — the header that tells a client *how* to
# authenticate — in the usual error envelope:

# %%
me = client.get("/api/users/me", headers=bearer(access))
print(me.status_code, me.json())
anonymous = client.get("/api/users/me")
print(anonymous.status_code, anonymous.headers["www-authenticate"], anonymous.json()["error"])

# %% [markdown]
# `OAuth2PasswordBearer(tokenUrl="/api/auth/token")` is what puts the flow into the OpenAPI
# document, so the interactive docs know where to send the form:

# %%
schemes = app.openapi()["components"]["securitySchemes"]
print(schemes)

# %% [markdown]
# ## 4. The seeds' JWT code, run for real
#
# Both seeds use **python-jose**. Seed 001's dependency, exactly as published (only the name
# changed so that it sits next to ours):

# %%
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer
from jose import jwt as jose_jwt

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
SECRET_KEY = "your-secret-key"
ALGORITHM = "HS256"

async def seed001_get_current_user(token: str = Depends(oauth2_scheme)):
    try:
        payload = jose_jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        username = payload.get("sub")
        if not username:
            raise HTTPException(status_code=401)
        return username
    except:  # noqa: E722 - the seed's bare except, kept to show what it does
        raise HTTPException(status_code=401)


seed_app = FastAPI()
seed_app.add_api_route("/me", lambda user=Depends(seed001_get_current_user): {"user": user})
seed_client = TestClient(seed_app)

# %% [markdown]
# **Problem 1: the key is in the source** (seed 001; seed 000 reads it from settings as
# `SecretStr`, which is right). `"your-secret-key"` is in every clone, every fork
# and, as here, in a published article. Anyone can mint a token the app accepts — for any
# user, with any claims, valid for a century. Even PyJWT complains about the key's length
# (RFC 7518 wants ≥ 256 bits for HS256), and `course_app` refuses to start with it:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    forged = jwt.encode(
        {"sub": "admin", "exp": datetime.now(UTC) + timedelta(days=36500)},
        "your-secret-key", algorithm="HS256",
    )
print("seed app, token anyone can mint:", seed_client.get("/me", headers=bearer(forged)).json())
print("PyJWT:", *{type(w.message).__name__ for w in caught})
warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)  # seen once is enough
try:
    load_settings(_env_file=None, environment="production", jwt_secret="your-secret-key",
                  database_url="sqlite+aiosqlite:///unused.db")
except SettingsError as exc:
    print(exc)

# %% [markdown]
# **Problem 2: the bare `except:`** turns *every* failure into "401, bad token": a bug, a
# missing configuration value, even `KeyboardInterrupt` and `asyncio.CancelledError`
# (a bare `except` catches `BaseException`). Suppose the key moves to the environment — the
# right idea — and the variable is missing in one deployment, so `SECRET_KEY` is `None`.
# python-jose then raises `JWKError`, which is not a token problem. The seed answers 401 to
# every user, logs nothing, and the outage looks like a wave of expired sessions. Seed 000
# catches only `JWTError` and the same mistake surfaces as a 500 with a traceback in the
# log:

# %%
from jose import JWTError
from jose.exceptions import JWKError

good_for_seed = jwt.encode({"sub": "alice"}, "your-secret-key", algorithm="HS256")
SECRET_KEY = None  # type: ignore[assignment]  # os.environ.get("SECRET_KEY") on a bad day
print("seed 001 (bare except):", seed_client.get("/me", headers=bearer(good_for_seed)).status_code)
try:
    jose_jwt.decode(good_for_seed, SECRET_KEY, algorithms=[ALGORITHM])
except JWTError:
    print("seed 000 (except JWTError): 401")
except JWKError as exc:
    print(f"seed 000 (except JWTError): {type(exc).__name__} escapes -> 500: {exc}")
print("JWKError is a JWTError:", issubclass(JWKError, JWTError))
SECRET_KEY = "your-secret-key"

# %% [markdown]
# **Problem 3: no required claims.** python-jose checks `exp` *if it is there*. A token
# without `exp` is valid forever; a token without `type` cannot be told apart from a refresh
# token; without `iss`/`aud`, a token minted for another service that shares the key is
# accepted. The seed accepts all of these:

# %%
def seed_token(**claims: Any) -> str:
    return jwt.encode(claims, "your-secret-key", algorithm="HS256")


for label, token in {
    "no exp: never expires": seed_token(sub="alice"),
    "a refresh token": seed_token(sub="alice", type="refresh"),
    "issued by another service": seed_token(sub="alice", iss="billing-service"),
}.items():
    print(f"{label:26} -> seed answers", seed_client.get("/me", headers=bearer(token)).status_code)

# %% [markdown]
# **Problem 4: algorithm handling.** The seeds do pass `algorithms=[ALGORITHM]` — but in
# python-jose that argument is *optional*. Leave it out and any algorithm the header names
# is tried with the key you gave; that default is the root of CVE-2024-33663 (algorithm
# confusion with OpenSSH ECDSA keys, fixed in 3.4.0). PyJWT makes the list mandatory:

# %%
LONG_KEY = "your-secret-key" * 5
hs512 = jwt.encode({"sub": "alice"}, LONG_KEY, algorithm="HS512")
print("python-jose, algorithms omitted, HS512 token:", jose_jwt.decode(hs512, LONG_KEY))
try:
    jwt.decode(hs512, LONG_KEY)
except jwt.DecodeError as exc:
    print("PyJWT, algorithms omitted:", exc)

# %% [markdown]
# **Problem 5: maintenance.** python-jose went from 3.3.0 (2021) to 3.4.0 (2025) with nothing
# in between; 3.4.0 fixed two advisories filed a year earlier (CVE-2024-33663 above, and
# CVE-2024-33664, a JWE "decompression bomb"). It still depends on `ecdsa`, whose
# maintainers will not fix CVE-2024-23342 (a timing side channel) and recommend pyca's
# `cryptography` instead. PyJWT is actively maintained, needs no dependency for HMAC, and is
# what FastAPI's documentation now uses. What each pulls into this environment:

# %%
for dist in ["python-jose", "PyJWT"]:
    required = [r.split(";")[0] for r in metadata.requires(dist) or [] if "extra ==" not in r]
    print(f"{dist:12} {metadata.version(dist):7} requires: {required or 'nothing'}")
print(f"{'ecdsa':12} {metadata.version('ecdsa'):7} (CVE-2024-23342: no fix planned upstream)")

# %% [markdown]
# ### Seed 000's `HTTPBearer`: 401, not 403
#
# Seed 000 reads the token with `HTTPBearer()` and the method says such a request gets a
# 403. That was FastAPI's behaviour before 0.122.0. Current FastAPI answers a missing or
# non-Bearer `Authorization` header with **401 and `WWW-Authenticate: Bearer`**, as RFC 7235
# and RFC 6750 require (403 means "I know who you are, and no"). Run it:

# %%
from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer_scheme = HTTPBearer()
bearer_app = FastAPI()


@bearer_app.get("/me")
def read_credentials(
    credentials: HTTPAuthorizationCredentials = Security(bearer_scheme),
) -> dict[str, str]:
    return {"scheme": credentials.scheme}


with TestClient(bearer_app) as bearer_client:
    for headers in [{}, {"Authorization": "Basic YWxpY2U6cHc="}, bearer("abc")]:
        got = bearer_client.get("/me", headers=headers)
        challenge = got.headers.get("www-authenticate")
        print(f"{headers!s:40} {got.status_code} {challenge} {got.json()}")
        assert got.status_code in (200, 401)

# %% [markdown]
# A client written against the old 403 must be updated (FastAPI documents
# `make_not_authenticated_error` for anyone who must keep 403). `course_app` uses
# `OAuth2PasswordBearer(auto_error=False)` and raises its own `AuthenticationError`, so a
# missing token, a bad token and an expired one all answer the same 401 envelope.
#
# ## 5. Migrating python-jose → PyJWT without logging anyone out
#
# Both libraries implement the same standard (RFC 7519): an HS256 token signed by one
# verifies under the other, given the same key. So the migration is a code change, not a
# token flag day. Here python-jose mints a token with `course_app`'s claims and key — as the
# old code would have — and the new PyJWT code accepts it, through the real API:

# %%
now = datetime.now(UTC)
legacy_claims = {
    "sub": str(alice_id), "type": "access", "jti": "0" * 32, "iat": now, "nbf": now,
    "exp": now + timedelta(minutes=15), "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
}
minted_by_jose = jose_jwt.encode(legacy_claims, DEMO_SECRET, algorithm="HS256")
verified = security.decode_token(settings, minted_by_jose, "access")
print("PyJWT verifies a python-jose token:", verified.subject, verified.token_type)
me_again = client.get("/api/users/me", headers=bearer(minted_by_jose))
print("GET /api/users/me with it:", me_again.status_code, me_again.json()["email"])
back = jose_jwt.decode(access, DEMO_SECRET, algorithms=["HS256"],
                       audience=settings.jwt_audience, issuer=settings.jwt_issuer)
print("and the other way round (for a rolling deploy):", back["sub"], back["type"])

# %% [markdown]
# The code changes are small; the point is to add what python-jose let you leave out:
#
# | python-jose (seeds) | PyJWT (`course_app.core.security`) |
# |---|---|
# | `from jose import jwt, JWTError` | `import jwt` |
# | `jwt.decode(t, key, algorithms=[...])` (list optional) | `jwt.decode(t, key, algorithms=[...])` (list **required**) |
# | `exp` checked only if present | `options={"require": ["exp", "iat", "nbf", "sub", "type", "jti", "iss", "aud"]}` |
# | `audience=` / `issuer=` often left out | `audience=settings.jwt_audience, issuer=settings.jwt_issuer` |
# | `except JWTError` (or a bare `except:`) | `except jwt.ExpiredSignatureError` then `except jwt.PyJWTError` |
# | `jwt.get_unverified_claims(t)` | `jwt.decode(t, options={"verify_signature": False})` |
# | a `type` claim nobody checks | `if payload["type"] != expected_type: raise` |
#
# Two details to check in old tokens before the switch. PyJWT (≥ 2.10) insists that `sub` is
# a string, as RFC 7519 says (python-jose 3.5 does too, older code often put an integer id
# there). And a token without the newly required claims stops working: issue new-style tokens
# first, wait one access-token lifetime (15 minutes) and one refresh lifetime, then require.

# %%
int_sub = jwt.encode({"sub": 42}, DEMO_SECRET, algorithm="HS256")
try:
    jwt.decode(int_sub, DEMO_SECRET, algorithms=["HS256"])
except jwt.exceptions.InvalidSubjectError as exc:
    print("PyJWT:", type(exc).__name__, "-", exc)

# %% [markdown]
# And here is what seed 000's `create_access_token` (python-jose, run as published) issued:
# valid under PyJWT's plain `decode`, but missing five of the claims `course_app` requires.
# Those tokens must have expired before `require` is switched on.

# %%
from datetime import timezone
from types import SimpleNamespace

from pydantic import SecretStr

seed_settings = SimpleNamespace(
    jwt_secret=SecretStr(DEMO_SECRET), jwt_algorithm="HS256", jwt_expire_minutes=30
)


def create_access_token(user_id: str, roles: list[str], settings: Settings) -> str:
    expire = datetime.now(timezone.utc) + timedelta(minutes=settings.jwt_expire_minutes)
    payload = {
        "sub": user_id,
        "roles": roles,
        "exp": expire,
        "iat": datetime.now(timezone.utc),
    }
    return jose_jwt.encode(
        payload, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm
    )


seed000_token = create_access_token(str(alice_id), ["user"], seed_settings)  # type: ignore
old_claims = jwt.decode(seed000_token, DEMO_SECRET, algorithms=["HS256"])
print("PyJWT, signature and exp only:", sorted(old_claims))
try:
    security.decode_token(settings, seed000_token, "access")
except security.TokenError as exc:
    print("course_app.decode_token:", exc, "|", repr(exc.__cause__))

# %% [markdown]
# ## 6. Forged tokens, rejected
#
# `course_app.core.security.decode_token` is the whole check, in two steps. PyJWT's part
# (`_verified_payload`): an explicit algorithm list, eight required claims, issuer and
# audience, the time claims, and only PyJWT's own errors caught. Its result is remembered
# per token, because a client sends the same token with every request and a string's
# signature cannot change; what can change is the clock, so `decode_token` checks `exp`
# again on every use, then the token type and the subject:

# %%
import inspect

print(inspect.getsource(security._verified_payload))
print(inspect.getsource(security.decode_token))

# %% [markdown]
# Each forgery below is sent to the real API; each must come back 401 with a reason a client
# can act on (and that helps nobody forge a better one). The first row is a genuine token, as
# a control:

# %%
import base64
import json


def claims_for(subject: int, **changes: Any) -> dict[str, Any]:
    moment = datetime.now(UTC)
    base = {"sub": str(subject), "type": "access", "jti": "f" * 32, "iat": moment,
            "nbf": moment, "exp": moment + timedelta(minutes=15),
            "iss": settings.jwt_issuer, "aud": settings.jwt_audience}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def sign(claims: dict[str, Any], key: str = DEMO_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def swap_payload(token: str, **changes: Any) -> str:
    """Edit the claims of a signed token and keep the old signature."""
    head, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    edited = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{head}.{edited}.{signature}"

# %%
past = datetime.now(UTC) - timedelta(hours=1)
FORGERIES = {
    "genuine access token (control)": security.create_token(settings, str(alice_id), "access"),
    "alg: none, no signature": jwt.encode(claims_for(alice_id), None, algorithm="none"),
    "signed with another key": sign(claims_for(alice_id), key="attacker-" + DEMO_SECRET),
    "HS512 with the right key": sign(claims_for(alice_id), algorithm="HS512"),
    "claims edited (sub -> Carol)": swap_payload(pair["access_token"], sub=str(carol_id)),
    "expired an hour ago": sign(claims_for(alice_id, iat=past, nbf=past, exp=past)),
    "not valid yet (nbf tomorrow)": sign(claims_for(alice_id, nbf=past + timedelta(days=1))),
    "no exp claim": sign(claims_for(alice_id, exp=None)),
    "no jti and no type": sign(claims_for(alice_id, jti=None, type=None)),
    "audience of another API": sign(claims_for(alice_id, aud="billing-api")),
    "issued by someone else": sign(claims_for(alice_id, iss="https://evil.example")),
    "a refresh token": pair["refresh_token"],
}
for label, token in FORGERIES.items():
    got = client.get("/api/users/me", headers=bearer(token))
    reason = got.json()["email"] if got.status_code == 200 else got.json()["error"]["message"]
    print(f"{label:32} {got.status_code}  {reason}")
    assert (got.status_code == 200) == (label == "genuine access token (control)")

# %% [markdown]
# Note what the messages do *not* say: no "signature mismatch" versus "unknown key id", no
# echo of the claims. `Token has expired` is the one worth distinguishing — it tells a
# well-behaved client to refresh.
#
# ## 7. Roles: `require_role`
#
# Seed 000's pattern survives intact: authorization is a **dependency** built on the
# authentication dependency. `require_role(...)` returns a new dependency that first gets the
# current user (401 if there is none) and then checks the role (403 if it does not match):

# %%
from course_app.features.auth.dependencies import require_role

print(inspect.getsource(require_role))

# %% [markdown]
# The user list is admin-only. Alice gets a 403 — she is authenticated, just not allowed —
# Carol gets the list, and an anonymous caller gets the 401 from the layer below:

# %%
def token_for(email: str) -> str:
    answer = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


alice, bob, carol = (token_for(f"{n}@example.com") for n in ["alice", "bob", "carol"])
for who, headers in [("anonymous", {}), ("alice", bearer(alice)), ("carol", bearer(carol))]:
    got = client.get("/api/users", headers=headers)
    body = got.json()
    shown = body["error"]["message"] if "error" in body else f"total={body['total']}"
    print(f"{who:9} {got.status_code} {shown}")

# %% [markdown]
# Writes to the catalogue are admin-only too. Carol adds a product that the orders below use:

# %%
MUG = {"sku": "MUG-0001", "name": "Enamel mug", "price_cents": 1299, "stock": 25}
print("alice:", client.post("/api/products", json=MUG, headers=bearer(alice)).status_code)
created = client.post("/api/products", json=MUG, headers=bearer(carol))
product_id = created.json()["id"]
print("carol:", created.status_code, created.json()["name"])

# %% [markdown]
# Seed 000 copies `roles` into the token, but rightly checks the roles of the user it loads
# from the database. Keep it that way: a check against a role *claim* would leave a demoted
# admin an admin until the token expires. `course_app` puts no role in the token at all
# (section 3: `role in token: False`); `get_current_user` loads the user on every request, so
# a change of role or a deactivation takes effect on the **next request**. Demote Carol, keep
# her token:

# %%
with sqlite3.connect(DB_PATH) as db:
    db.execute("UPDATE users SET role = ? WHERE id = ?", ("user", carol_id))
after_demotion = client.get("/api/users", headers=bearer(carol))
print("carol's old token, after the demotion:", after_demotion.status_code)
with sqlite3.connect(DB_PATH) as db:
    db.execute("UPDATE users SET role = ? WHERE id = ?", ("admin", carol_id))
print("promoted again:", client.get("/api/users", headers=bearer(carol)).status_code)

# %% [markdown]
# ## 8. Object-level authorization: someone else's order is a 404
#
# Roles answer "may this kind of user call this route?". They do not answer "may *this* user
# see *this* order?" — the most common API vulnerability (OWASP API Security Top 10, API1:
# Broken Object Level Authorization). Every order query in `course_app` is scoped to its owner
# unless the caller is an admin. And a foreign order answers **404, exactly like a missing
# one**: a 403 would confirm to Bob that order 1 exists.

# %%
order = client.post(
    "/api/orders", json={"items": [{"product_id": product_id, "quantity": 2}]},
    headers=bearer(alice),
).json()
order_id = order["id"]
print("alice placed order", order_id, "for", order["total_cents"], "cents")
for who, token, path in [
    ("alice", alice, f"/api/orders/{order_id}"),
    ("bob", bob, f"/api/orders/{order_id}"),
    ("bob", bob, "/api/orders/999"),
    ("carol", carol, f"/api/orders/{order_id}"),
]:
    got = client.get(path, headers=bearer(token))
    print(f"{who:6} GET {path:17} {got.status_code}", got.json().get("error", {}).get("code", "ok"))

# %% [markdown]
# The same scoping applies to lists and to writes: Bob's listing does not contain Alice's
# order, and he cannot cancel it (404 again, not 403). Carol sees every order.

# %%
def total(token: str) -> int:
    return int(client.get("/api/orders", headers=bearer(token)).json()["total"])


print("orders visible to alice, bob, carol:", total(alice), total(bob), total(carol))
cancel = client.patch(f"/api/orders/{order_id}/status", json={"status": "cancelled"},
                      headers=bearer(bob))
print("bob cancels alice's order:", cancel.status_code, cancel.json()["error"]["code"])
print("still:", client.get(f"/api/orders/{order_id}", headers=bearer(alice)).json()["status"])

# %% [markdown]
# ## 9. Refresh tokens: rotation and reuse detection
#
# An access token is checked by signature alone, so it cannot be revoked; that is why it
# lives 15 minutes. The **refresh** token lives 7 days, so the server keeps a row per refresh
# token (by its `jti`) and makes it:
#
# - **single-use** — each `/api/auth/refresh` spends the token and returns a new pair
#   (rotation);
# - **reuse-detecting** — presenting a spent token again means two parties hold it (the user
#   and a thief): every session of the account is ended;
# - **not an access token** — the `type` claim is checked on every decode, both ways.

# %%
first = client.post("/api/auth/login",
                    json={"email": "alice@example.com", "password": PASSWORD}).json()
second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
print("rotate:", second.status_code, "| new refresh token:",
      second.json()["refresh_token"] != first["refresh_token"])
second_pair = second.json()
replay = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
print("replay the spent token:", replay.status_code, replay.json()["error"]["message"])
after = client.post("/api/auth/refresh", json={"refresh_token": second_pair["refresh_token"]})
print("the rotated token after the replay:", after.status_code, after.json()["error"]["message"])

# %% [markdown]
# The chain is visible in the `refresh_tokens` table: the first token records which token
# replaced it, and after the replay nothing of Alice's is live any more.

# %%
with sqlite3.connect(DB_PATH) as db:
    rows = db.execute(
        "SELECT jti, replaced_by, revoked_at IS NOT NULL FROM refresh_tokens WHERE user_id = ?"
        " ORDER BY created_at", (alice_id,)).fetchall()
jti_of = {jwt.decode(t, options={"verify_signature": False})["jti"]: n
          for n, t in [("first", first["refresh_token"]), ("second", second_pair["refresh_token"])]}
for jti, replaced_by, revoked in rows:
    print(f"{jti_of.get(jti, 'earlier login'):13} revoked={bool(revoked)} "
          f"replaced_by={jti_of.get(replaced_by, replaced_by)}")

# %%
fresh = client.post("/api/auth/login",
                    json={"email": "alice@example.com", "password": PASSWORD}).json()
as_access = client.get("/api/users/me", headers=bearer(fresh["refresh_token"]))
print("refresh token as access token:", as_access.status_code, as_access.json()["error"]["message"])
as_refresh = client.post("/api/auth/refresh", json={"refresh_token": fresh["access_token"]})
print("access token as refresh:", as_refresh.status_code, as_refresh.json()["error"]["message"])
client.post("/api/auth/logout", json={"refresh_token": fresh["refresh_token"]})
after_logout = client.post("/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
print("refresh after logout:", after_logout.status_code, after_logout.json()["error"]["message"])

# %% [markdown]
# Logging out revokes the refresh token. Presenting it afterwards is treated like any other
# replay (someone kept a copy of a token its owner threw away), so the account's remaining
# sessions end too. The access token stays valid for the rest of its 15 minutes: that is the
# trade of stateless access tokens, and why their lifetime is short.
#
# ## 10. Rate-limited login
#
# Argon2 makes each guess slow; a rate limit makes guesses few. `course_app` counts login
# attempts per **client IP and email** in a fixed window (`LOGIN_RATE_LIMIT`, here 3 per
# 60 s). Past the limit the answer is 429 with `Retry-After` — before any password is
# checked, so even the right password waits:

# %%
attempts = []
for guess in ["123456", "password", "qwerty", "letmein", PASSWORD]:
    got = client.post("/api/auth/token", data={"username": "bob@example.com", "password": guess})
    attempts.append(got.status_code)
print("statuses:", attempts)
print("Retry-After within the window:", 1 <= int(got.headers["retry-after"]) <= 60)
print("body:", got.json()["error"]["code"], got.json()["error"]["message"])
other = client.post("/api/auth/token", data={"username": "alice@example.com", "password": "x"})
print("another email from the same address:", other.status_code)

# %% [markdown]
# The key includes the email so that one attacker cannot lock every user out from one
# address, and a success resets the counter. With several workers an in-memory counter
# gives each worker its own budget; lesson 11 shows that and fixes it with Redis.
#
# The *message* for an unknown email and a wrong password is the same (`Incorrect email or
# password`), and so is the *time*: for an unknown email the service verifies against a dummy
# hash. Measured with the real Argon2 parameters:

# %%
# NBVAL_IGNORE_OUTPUT
security.password_hash = REAL
security._dummy_hash.cache_clear()
security.verify_dummy("warm-up")  # builds the dummy hash once
wrong_password = cost(lambda: security.verify_password("guess", stored))
unknown_email = cost(lambda: security.verify_dummy("guess"))
early_return = cost(lambda: None)  # what "if user is None: raise" without the dummy costs
security.password_hash = WEAK
security._dummy_hash.cache_clear()
print(f"wrong password {wrong_password * 1e3:.0f} ms | unknown email {unknown_email * 1e3:.0f} ms"
      f" | early return {early_return * 1e6:.1f} µs")
assert 0.33 < unknown_email / wrong_password < 3, "the two paths should cost about the same"
assert early_return * 100 < wrong_password, "an early return would reveal which emails exist"

# %% [markdown]
# ## 11. The 10-point security checklist, checked
#
# Seed 000 ends its phase with ten checks. Each one gets a cell that demonstrates it on the
# code of this course, or says precisely where it lives.
#
# **1. JWT secret ≥ 256 bits, from the environment (P0).** Production refuses anything
# shorter or well-known (lesson 02); development generates a random one per process.

# %%
for secret in ["dev", "short-but-not-in-the-list", DEMO_SECRET]:
    try:
        load_settings(_env_file=None, environment="production", jwt_secret=secret,
                      database_url="sqlite+aiosqlite:///unused.db")
        print(f"{len(secret.encode()):2} bytes: accepted")
    except SettingsError as exc:
        print(f"{len(secret.encode()):2} bytes:", str(exc).splitlines()[1].strip())

# %% [markdown]
# **2. Token expiry ≤ 30 min for access, ≤ 7 days for refresh (P0).** Measured on the pair
# Alice got, and enforced by the settings' bounds:

# %%
def lifetime(token: str) -> timedelta:
    data = jwt.decode(token, options={"verify_signature": False})
    return timedelta(seconds=data["exp"] - data["iat"])


print("access:", lifetime(pair["access_token"]), "| refresh:", lifetime(pair["refresh_token"]))
assert lifetime(pair["access_token"]) <= timedelta(minutes=30)
assert lifetime(pair["refresh_token"]) <= timedelta(days=7)
for field, value in [("access_token_expire_minutes", 60), ("refresh_token_expire_days", 30)]:
    try:
        load_settings(_env_file=None, **{field: value})
    except SettingsError as exc:
        print(str(exc).splitlines()[1].strip())

# %% [markdown]
# **3. Passwords hashed with bcrypt/argon2 (P0).** Every stored hash is Argon2id, and no
# response ever contains it:

# %%
with sqlite3.connect(DB_PATH) as db:
    prefixes = {row[0].split("$")[1] for row in db.execute("SELECT hashed_password FROM users")}
print("stored hash algorithms:", prefixes)
profile = client.get("/api/users/me", headers=bearer(alice)).text
print("a response mentions the hash:", "hash" in profile)

# %% [markdown]
# **4. CORS configured per environment (P0).** Explicit origins; `*` is refused in production
# (lesson 02 runs the browser side; the lab of lesson 02 wires it):

# %%
try:
    load_settings(_env_file=None, environment="production", jwt_secret=DEMO_SECRET,
                  database_url="sqlite+aiosqlite:///unused.db", cors_origins="*")
except SettingsError as exc:
    print(str(exc).splitlines()[1].strip())
print(load_settings(_env_file=None, cors_origins="https://shop.example").cors_origins)

# %% [markdown]
# **5. Rate limiting on auth endpoints (P0).** Section 10; the cell below re-checks the
# recorded statuses. (`PATCH /api/users/me`, which checks the current password, is limited
# the same way.)

# %%
print(attempts, "-> limited after", attempts.index(429), "attempts")
assert attempts[:3] == [401, 401, 401] and set(attempts[3:]) == {429}

# %% [markdown]
# **6. HTTPS enforced (P0).** TLS ends at the load balancer or reverse proxy in front of the
# app, which also redirects `http://` to `https://`. The app adds HSTS in production (next
# cell), so a browser that has seen the site once never tries plain HTTP again. Where the
# app must redirect itself, Starlette ships `HTTPSRedirectMiddleware`:

# %%
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware

redirecting = FastAPI()
redirecting.add_api_route("/health", lambda: {"status": "ok"})
redirecting.add_middleware(HTTPSRedirectMiddleware)
with TestClient(redirecting, base_url="http://shop.example") as plain:
    got = plain.get("/health", follow_redirects=False)
print(got.status_code, got.headers["location"])

# %% [markdown]
# **7. Security headers: HSTS, CSP, X-Frame-Options (P1).** Set by `course_app`'s
# `SecurityHeadersMiddleware`, installed by `create_app()` (lesson 08 covers the whole
# stack). HSTS is sent in production only: on `http://localhost` it would be a trap.

# %%
from course_app.main import create_app

SECURITY_HEADERS = ["strict-transport-security", "content-security-policy",
                    "x-frame-options", "x-content-type-options", "referrer-policy"]
for environment in ["development", "production"]:
    full = create_app(load_settings(
        _env_file=None, environment=environment, jwt_secret=DEMO_SECRET, log_level="ERROR",
        database_url=f"sqlite+aiosqlite:///{Path(workdir.name) / environment}.db"))
    with TestClient(full) as full_client:
        headers = full_client.get("/health").headers
    print(environment, {name: headers.get(name) for name in SECURITY_HEADERS})

# %% [markdown]
# **8. Input validation on all endpoints (P1).** Every body, path and query parameter is
# typed, so FastAPI validates it; the cell lists any operation with inputs that does not
# document a 422, and sends a malformed login:

# %%
undocumented = [
    f"{method.upper()} {path}"
    for path, item in app.openapi()["paths"].items()
    for method, operation in item.items()
    if (operation.get("parameters") or operation.get("requestBody"))
    and "422" not in operation["responses"]
]
print("operations with inputs but no 422:", undocumented)
bad = client.post("/api/auth/login", json={"email": "a@b.c", "password": "", "admin": True})
problems = bad.json()["error"]["details"]["errors"]
print(bad.status_code, [(problem["loc"][-1], problem["type"]) for problem in problems])

# %% [markdown]
# **9. SQL injection prevented (P0).** SQLAlchemy sends values as bound parameters, never
# spliced into the SQL text. The classic payload is just an email nobody has:

# %%
from sqlalchemy import select

from course_app.features.users.models import User

payload = "' OR '1'='1' --"
print(select(User.id).where(User.email == payload))
got = client.post("/api/auth/login", json={"email": payload, "password": "x"})
print(got.status_code, got.json()["error"]["message"])

# %% [markdown]
# **10. Dependency scanning (P1).** In CI, `pip-audit` (PyPA) checks the locked requirements
# against the Python advisory database: `pip-audit -r requirements.lock`. It needs the
# network, so this offline cell does the same thing by hand for the advisories this lesson
# named, against what is installed right now. Note what it finds: the python-jose we
# installed *for this lesson's demonstrations* drags in `ecdsa`. `course_app` imports
# neither (lesson 01's import test can prove it).

# %%
from packaging.version import Version

ADVISORIES = [  # (distribution, fixed in, advisory) — None: no fixed version
    ("python-jose", "3.4.0", "CVE-2024-33663 algorithm confusion"),
    ("python-jose", "3.4.0", "CVE-2024-33664 JWE decompression bomb"),
    ("ecdsa", None, "CVE-2024-23342 Minerva timing attack"),
    ("PyJWT", "2.4.0", "CVE-2022-29217 algorithm confusion"),
]
for dist, fixed, advisory in ADVISORIES:
    installed = metadata.version(dist)
    vulnerable = fixed is None or Version(installed) < Version(fixed)
    print(f"{dist:12} {installed:8} {'VULNERABLE' if vulnerable else 'ok':10} {advisory}")

# %%
import ast

imported = set()
for source in Path(security.__file__).parents[1].rglob("*.py"):
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
print("course_app imports jose / ecdsa / passlib:", imported & {"jose", "ecdsa", "passlib"})
print("course_app imports jwt / pwdlib:", sorted(imported & {"jwt", "pwdlib"}))

# %%
client.__exit__(None, None, None)
security.password_hash = REAL
security._dummy_hash.cache_clear()
workdir.cleanup()

# %% [markdown]
# ## Summary
#
# - Passwords: pwdlib + Argon2id, slow by design (measured: thousands of times slower than
#   SHA-256), salted, self-describing, upgraded on login. passlib is unmaintained and broke
#   with bcrypt 4.1 (warning) and 5.0 (`ValueError` on every hash).
# - Login is the OAuth2 password grant at `/api/auth/token`; the answer is an access token
#   (15 min) and a refresh token (7 days), not cacheable.
# - Tokens: PyJWT with `algorithms=[...]`, eight required claims, issuer and audience, and a
#   `type` claim checked on every decode. python-jose tokens verify unchanged, so the
#   migration logs nobody out.
# - The seeds' code: a key in the source, a bare `except:`, no required claims, an optional
#   algorithm list, an unmaintained library. And `HTTPBearer` now answers 401, not 403.
# - Authorization is two layers: `require_role(...)` dependencies for routes, owner-scoped
#   queries for objects, with 404 for "not yours".
# - Refresh tokens rotate; a replay ends every session. Login is rate-limited per IP and
#   email, with `Retry-After`, and costs the same for unknown emails.
#
# **Production checklist items covered** (seed 000's security checklist, all ten)
#
# - [x] 1 · JWT secret ≥ 256 bits from the environment (P0)
# - [x] 2 · access ≤ 30 min, refresh ≤ 7 days (P0)
# - [x] 3 · Argon2id password hashes (P0)
# - [x] 4 · CORS per environment (P0)
# - [x] 5 · rate limiting on auth endpoints (P0)
# - [x] 6 · HTTPS enforced: at the proxy, HSTS from the app (P0)
# - [x] 7 · security headers (P1)
# - [x] 8 · input validation on all endpoints (P1)
# - [x] 9 · parameterised SQL (P0)
# - [x] 10 · dependency scanning (P1)
#
# **Next:** the lab `exercises/05_auth.ipynb`, then lesson 06 (database patterns).
