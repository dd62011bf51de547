"""Route: the HTTP endpoints a provider declares beside its API (services/base.py)."""

from __future__ import annotations

import re

import pytest

from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.services.base import Match, Provider, Route, RouteAuth


def request(method="GET", path="/", host="127.0.0.1:4566") -> HttpRequest:
    return HttpRequest(method=method, path=path, headers=Headers([("Host", host)]))


def handler(request):
    return 200, {}, b""


def test_a_prefix_route_takes_the_paths_under_it():
    route = Route(prefix="/_cloudlet/sns/", handler=handler)
    assert route.match(request(path="/_cloudlet/sns/mail")) is Match.FULL
    assert route.match(request(method="DELETE", path="/_cloudlet/sns/x")) is Match.FULL
    assert route.match(request(path="/_cloudlet/snsx")) is Match.NONE
    assert route.match(request(path="/bucket/_cloudlet/sns/")) is Match.NONE


def test_methods_make_a_partial_match_of_others():
    route = Route(prefix="/_cloudlet/sns/", methods=frozenset({"GET", "HEAD"}),
                  handler=handler)
    assert route.match(request("HEAD", "/_cloudlet/sns/mail")) is Match.FULL
    assert route.match(request("POST", "/_cloudlet/sns/mail")) is Match.PARTIAL
    assert route.match(request("POST", "/elsewhere")) is Match.NONE


def test_a_host_route_matches_the_whole_host_lower_cased():
    host = re.compile(r"[a-z0-9]{4}\.lambda-url\.[a-z0-9-]+\.localhost(?::\d+)?")
    route = Route(host=host, handler=handler)
    assert route.match(request(path="/any/path", host="ABCD.lambda-url.us-east-1.localhost:4566")
                       ) is Match.FULL
    assert route.match(request(host="abcd.lambda-url.us-east-1.localhost.example")
                       ) is Match.NONE
    assert route.match(request(host="127.0.0.1:4566")) is Match.NONE
    both = Route(host=host, prefix="/only/", handler=handler)
    assert both.match(request(path="/only/x", host="abcd.lambda-url.r.localhost")) is Match.FULL
    assert both.match(request(path="/x", host="abcd.lambda-url.r.localhost")) is Match.NONE


def test_a_route_needs_a_prefix_or_a_host_and_a_checked_one_its_signing_name():
    with pytest.raises(ValueError):
        Route(handler=handler)
    with pytest.raises(ValueError):
        Route(prefix="/x/", handler=handler, auth=RouteAuth.SIGNED)
    route = Route(prefix="/x/", handler=handler, auth=RouteAuth.SIGNED, signing_name="ec2")
    assert route.auth is RouteAuth.SIGNED and not route.reads_body


def test_providers_declare_no_routes_by_default_and_the_served_ones_theirs(tmp_path):
    from cloudlet.services import provider_class
    from cloudlet.store import Store

    assert Provider.routes(object()) == []
    store = Store.open(tmp_path)
    prefixes = {name: [r.prefix or r.host.pattern for r in provider_class(name)(store).routes()]
                for name in ("sts", "sns")}
    assert prefixes == {"sts": ["/_cloudlet/oidc/token", "/_cloudlet/oidc/"],
                        "sns": ["/_cloudlet/sns/SimpleNotificationService.pem",
                                "/_cloudlet/sns/mail", "/_cloudlet/sns/deliveries"]}
