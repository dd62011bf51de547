"""OpenID Connect issuer URLs as IAM and STS name them.

    provider_path("https://token.actions.githubusercontent.com/")
        -> "token.actions.githubusercontent.com"   (host and path, no scheme, no slash)
    is_local(url)  -> whether the URL is Cloudlet's own issuer (path `LOCAL_PATH`)

IAM names its OIDC providers and their condition keys by the path; STS finds the provider
of a token's issuer by it, and trusts the local issuer's keys.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOCAL_PATH = "/_cloudlet/oidc"


def provider_path(url: str) -> str:
    """`https://token.actions.githubusercontent.com/` -> `token.actions.githubusercontent.com`."""
    split = urlsplit(url if "://" in url else "https://" + url)
    return (split.netloc + split.path).rstrip("/").lower() if split.netloc else ""


def is_local(url: str) -> bool:
    split = urlsplit(url if "://" in url else "https://" + url)
    return split.path.rstrip("/") == LOCAL_PATH
