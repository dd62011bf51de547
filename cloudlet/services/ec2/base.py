"""What every EC2 family shares: the records, the fabric port, the default VPC made on
first use, and one `describe` that every Describe* goes through (ids, Filters, tags,
MaxResults/NextToken, AWS's NotFound and Malformed errors)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cloudlet.config import public_range
from cloudlet.services.base import Provider
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.fabric import Fabric
from cloudlet.services.ec2.filters import Filters
from cloudlet.services.ec2.ids import KINDS, well_formed
from cloudlet.services.ec2.pagination import page
from cloudlet.services.ec2.store import Records, View, public
from cloudlet.services.ec2.tags import apply_tags, attach_tags, spec_tags

log = logging.getLogger("cloudlet.ec2")

# Operations that need no default VPC behind them.
PLACELESS = {"DescribeRegions", "DescribeAvailabilityZones", "DescribePrefixLists",
             "DescribeManagedPrefixLists", "GetManagedPrefixListEntries"}


class Ec2Base(Provider):
    service = "ec2"

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.records = Records(store)
        self.fabric = Fabric(store.root, public_range())
        self._places: set[tuple[str, str]] = set()
        self._place_lock = threading.Lock()
        self._timers: set[threading.Timer] = set()

    def start(self) -> None:
        self.fabric.start(self.records)
        resume = getattr(self, "resume_nat_gateways", None)
        if resume is not None:
            resume()

    def health(self) -> dict:
        return {"network": {"enforced": self.fabric.available, "reason": self.fabric.reason}}

    def stop(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self.fabric.stop()

    def later(self, delay: float, action: Callable, *args) -> None:
        """Run `action(*args)` on a timer thread (a NAT gateway settling, say)."""
        def run():
            self._timers.discard(timer)
            try:
                action(*args)
            except Exception:
                log.exception("EC2 timer %s failed", getattr(action, "__name__", action))

        timer = threading.Timer(delay, run)
        timer.daemon = True
        self._timers.add(timer)
        timer.start()

    def handler(self, operation: str) -> Callable | None:
        if operation not in self._handlers:
            found = super().handler(operation)
            if found is not None and operation not in PLACELESS:
                found = self._in_place(found)
            self._handlers[operation] = found
        return self._handlers[operation]

    def _in_place(self, handler: Callable) -> Callable:
        def run(ctx, params):
            self.ensure_place(ctx.account_id, ctx.region)
            return handler(ctx, params)

        run.__name__ = handler.__name__
        return run

    def ensure_place(self, account: str, region: str) -> None:
        """Every account has a default VPC in every region, made when first needed."""
        key = (account, region)
        if key in self._places:
            return
        with self._place_lock:
            if key in self._places:
                return
            if not self.records.read(account, region).place()[0]:
                with self.records.write(account, region) as view:
                    if not view.place()[0]:
                        self.create_place(view)
            self._places.add(key)

    def create_place(self, view: View) -> None:
        """Overridden by the default VPC family."""
        view.set_place(None)

    # -- creating ------------------------------------------------------------------------
    def created(self, view: View, kind: str, doc: dict, params: dict | None = None,
                tags: list[dict] | None = None) -> dict:
        """Store a new resource with the tags its TagSpecifications (or `tags`) give it;
        returns it as the Create* answers it, tags included."""
        view.put(kind, doc)
        tags = tags if tags is not None else spec_tags(params or {}, kind)
        if tags:
            apply_tags(view, kind, doc[KINDS[kind].id_member], tags)
        return self.shown(view, kind, doc)

    @staticmethod
    def shown(view: View, kind: str, doc: dict) -> dict:
        id = doc[KINDS[kind].id_member]
        tags = view.tags_of([id]).get(id)
        return {**public(doc), KINDS[kind].tags_member: tags} if tags else public(doc)

    # -- describing ----------------------------------------------------------------------
    def describe(self, ctx, params: dict, kind: str, result: str, *, ids_member: str | None = None,
                 ids: list[str] | None = None, fields: dict | None = None,
                 complete: Callable[[View, list[dict]], list[dict]] | None = None,
                 maximum: int = 1000, minimum: int = 5, missing_ok: bool = False,
                 view: View | None = None) -> dict:
        view = view or self.records.read(ctx.account_id, ctx.region)
        wanted = ids if ids is not None else (params.get(ids_member) if ids_member else None)
        prefix = KINDS[kind].prefix
        for id in wanted or []:
            if not well_formed(id, prefix):
                raise errors.malformed(kind, id, prefix)
        filters = Filters.compile(kind, params.get("Filters"), fields)
        if wanted:  # every id must exist, whatever the filters then keep
            docs = view.find(kind, ids=wanted)
        else:
            docs = view.find(kind, **filters.narrowing())
            filters = filters.without({name for name in filters.indexed if len(next(
                f.values for f in filters.filters if f.name == name)) <= 500})
        if wanted:
            chosen = set(wanted)
            member = KINDS[kind].id_member
            docs = [d for d in docs if d[member] in chosen]
            found = {d[member] for d in docs}
            absent = [id for id in wanted if id not in found]
            if absent and not missing_ok:
                raise errors.not_found(kind, absent[0])
        attach_tags(view, kind, docs)
        if complete is not None:
            docs = complete(view, docs)
        if filters:
            docs = [d for d in docs if filters.matches(d)]
        docs, token = page(docs, params, minimum=minimum, maximum=maximum)
        # Cloudlet's `_` fields are not in the output shape, so the codec never writes them
        return {result: docs, "NextToken": token}

    # -- shared checks ---------------------------------------------------------------------
    @staticmethod
    def require(view: View, kind: str, id, parameter: str | None = None) -> dict:
        if id is None:
            raise errors.MissingParameter(name=parameter or KINDS[kind].id_member)
        if not well_formed(id, KINDS[kind].prefix):
            raise errors.malformed(kind, id, KINDS[kind].prefix)
        return view.require(id, kind)
