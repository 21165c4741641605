"""Fleet mode: a worker claims due connections from the shared database and polls them,
concurrently and bounded, each with its own poller (breaker, lease, HTTP clients).

Why a fleet: a Prefect flow run costs about 350 ms of CPU and a task run about 20 ms, while an
empty poll costs a few milliseconds; one flow run per tenant per minute tops out near 70
tenants per machine. Why claims: any number of workers share the database; each tick a worker
takes what is due up to its free capacity (`poller.state.claims`), so adding a worker adds
capacity and a dead worker's tenants go to the others once its leases expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import ValidationError

from poller.blocks import BlockListing
from poller.breaker import BreakerPolicy
from poller.connections import ConnectionConfig
from poller.crypto import SecretBox
from poller.errors import PollerError, one_line
from poller.lease import poll_owner
from poller.poll import ConnectionPoller
from poller.poll_report import PollReport
from poller.settings import Settings
from poller.state.claims import Claim, Claims
from poller.state.models import ConnectionState
from poller.state.store import Store

PollOne = Callable[[ConnectionPoller], Awaitable[PollReport]]
LoadMany = Callable[[list[str]], Awaitable[dict[str, BlockListing]]]


class DefinitionUnavailable(Exception):
    """A claimed connection's block could not be read (the Prefect API is down or busy)."""


@dataclass
class DefinitionChanges:
    """What a fresh block listing says changed since the last one."""

    changed: dict[str, tuple[str, ConnectionConfig]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # name -> why it does not parse
    gone: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.changed or self.broken or self.gone)

    @classmethod
    def defining(cls, configs: Iterable[ConnectionConfig]) -> DefinitionChanges:
        """Changes that define `configs` directly (stamped by their content), for callers that
        hold the configs already rather than a block listing."""
        return cls(changed={c.name: (_content_stamp(c), c) for c in configs})


class Definitions:
    """The connections' definitions, each parsed from its block only when the block changed
    (Prefect moves a block document's `updated` stamp on every save)."""

    def __init__(self) -> None:
        self.configs: dict[str, ConnectionConfig] = {}
        self.stamps: dict[str, str] = {}

    def diff(self, listing: Iterable[BlockListing], *, complete: bool = True) -> DefinitionChanges:
        """Parse the blocks whose stamp moved; CPU only, safe on a thread. Only a `complete`
        listing says which are gone (one page of it cannot)."""
        changes = DefinitionChanges()
        listed: set[str] = set()
        for block in listing:
            listed.add(block.name)
            if self.stamps.get(block.name) == block.updated:
                continue
            try:
                changes.changed[block.name] = (block.updated, block.to_config())
            except ValidationError as exc:
                changes.broken[block.name] = one_line(exc)
        if complete:
            changes.gone = set(self.stamps) - listed
        return changes

    def apply(self, changes: DefinitionChanges) -> None:
        for name, (stamp, config) in changes.changed.items():
            self.stamps[name], self.configs[name] = stamp, config
        for name in changes.gone | set(changes.broken):
            self.stamps.pop(name, None)
            self.configs.pop(name, None)


class Fleet:
    """One fleet worker: its claims and its definitions cache."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        box: SecretBox,
        *,
        load_many: LoadMany | None = None,
        breaker_policy: BreakerPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.box = box
        self.worker = settings.worker_name
        self.owner = poll_owner(self.worker)
        policy = breaker_policy or BreakerPolicy()
        self.claims = Claims(
            store,
            self.owner,
            lease_seconds=settings.lease_seconds,
            breaker_open_seconds=policy.open_seconds,
        )
        self.definitions = Definitions()
        self.load_many = load_many
        self.held: dict[str, Claim] = {}  # claimed and not yet given back, by name
        self.notes: list[str] = []  # what an operator should hear of (printed by the loop)
        self._gate = asyncio.Semaphore(settings.fleet_concurrency)

    # -- definitions ---------------------------------------------------------------------

    def take(self, changes: DefinitionChanges) -> None:
        """Apply a listing's changes: cache them and mirror interval and switch into the
        database, where the claims read them."""
        self.definitions.apply(changes)
        rows = [
            (name, config.poll_interval_seconds, config.enabled, stamp)
            for name, (stamp, config) in changes.changed.items()
        ]
        if rows or changes.gone:
            self.store.states.sync_definitions(rows, sorted(changes.gone))
        for name, why in changes.broken.items():
            self.notes.append(f"connection '{name}': its block does not validate: {why}")

    async def _definitions(
        self, claims: list[Claim]
    ) -> dict[str, ConnectionConfig | DefinitionUnavailable | None]:
        """Each claim's definition: the cached one while the database's stamp of its block
        matches it; else (saved since by `poller add` or `edit`, which clear the stamp, or
        new to this worker) its block read again, all such blocks in one request. None: the
        block is gone."""
        found: dict[str, ConnectionConfig | DefinitionUnavailable | None] = {}
        stale: list[str] = []
        for claim in claims:
            found[claim.name] = self.definitions.configs.get(claim.name)
            fresh = claim.block_updated == self.definitions.stamps.get(claim.name)
            if self.load_many is not None and not (found[claim.name] is not None and fresh):
                stale.append(claim.name)
        if not stale or self.load_many is None:
            return found
        try:
            blocks = await self.load_many(stale)
        except Exception as exc:  # Prefect is down or busy: poll what we know, if anything
            for name in stale:
                if found[name] is None:
                    unavailable = DefinitionUnavailable(name)
                    unavailable.__cause__ = exc
                    found[name] = unavailable
            return found
        for block in blocks.values():
            self.take(_single(block))
        for name in stale:
            found[name] = self.definitions.configs.get(name) if name in blocks else None
        return found

    # -- claims --------------------------------------------------------------------------

    async def claim(self) -> list[str]:
        """Claim due connections up to the free capacity; the blocks of those whose
        definition is not cached (a worker just started) are read in one request."""
        free = self.settings.fleet_capacity - len(self.held)
        # a claim already held had its lease lapse mid-poll and come back to us
        claims = [c for c in self.claims.claim_due(free) if c.name not in self.held]
        found = await self._definitions(claims) if claims else {}
        return [claim.name for claim in claims if self._hold(claim, found[claim.name])]

    def _hold(self, claim: Claim, config: ConnectionConfig | DefinitionUnavailable | None) -> bool:
        """Keep a claim whose definition is at hand and enabled; give the others back."""
        if isinstance(config, DefinitionUnavailable):
            self.notes.append(f"connection '{claim.name}' is not polled yet: {config.__cause__}")
            retry_at = self.store.clock() + timedelta(seconds=self.settings.lease_seconds)
            self.claims.give_back(claim.id, retry_at)
            return False
        if config is None or not config.enabled:  # deleted or switched off meanwhile
            why = "its block is gone" if config is None else "it is switched off"
            self.notes.append(f"connection '{claim.name}' is not polled: {why}")
            self.store.states.set_schedule(claim.id, interval_seconds=60, enabled=False)
            self.claims.give_back(claim.id, None)
            return False
        self.held[claim.name] = claim
        return True

    async def confirm_gone(self, names: Iterable[str]) -> set[str]:
        """Of `names`, missing from a paged listing, those whose block is really gone (a
        page can miss one when another was deleted meanwhile); found ones are taken."""
        names = sorted(names)
        blocks = await self.load_many(names) if self.load_many and names else {}
        for block in blocks.values():
            self.take(_single(block))
        return set(names) - set(blocks)

    def renew(self) -> int:
        """Extend every lease this worker holds, in one statement; how many it still holds."""
        return len(self.claims.renew([claim.id for claim in list(self.held.values())]))

    def settle(self, names: Iterable[str]) -> None:
        """Give back the claims of `names` that no poll took care of (their batch never ran):
        they are due again at once, for any worker."""
        for name in names:
            claim = self.held.pop(name, None)
            if claim is not None:
                with contextlib.suppress(PollerError):  # else the lease simply expires
                    self.claims.give_back(claim.id, None)

    def _after_poll(self, name: str, poller: ConnectionPoller) -> None:
        """A poll that did not release its claim (skipped by the breaker, or it failed
        before its lease) gives it back, due again one interval later. A definition edited
        while it was polled makes it due at once, so the edit is not a whole interval late."""
        claim = self.held.pop(name, None)
        if claim is None:
            return
        with contextlib.suppress(PollerError):  # else the lease simply expires
            if not poller.released:
                due = self.store.clock() + timedelta(seconds=poller.config.poll_interval_seconds)
                self.claims.give_back(claim.id, due)
            edited = self.definitions.configs.get(name, poller.config)
            if edited != poller.config:
                self.store.states.set_schedule(
                    claim.id,
                    interval_seconds=edited.poll_interval_seconds,
                    enabled=edited.enabled,
                )

    # -- polling -------------------------------------------------------------------------

    def _poller(self, config: ConnectionConfig, claimed: ConnectionState) -> ConnectionPoller:
        """A poller for one poll: cheap, as it reads nothing (the claim brought the row)."""
        poller = ConnectionPoller(
            config,
            store=self.store,
            box=self.box,
            settings=self.settings,
            state=claimed,
        )
        poller.renews_own_lease = False  # `renew` keeps every claim of this worker
        poller.hand_over(claimed)
        return poller

    async def poll(self, names: list[str], poll_one: PollOne) -> list[PollReport]:
        """Poll claimed `names` concurrently (bounded); a tenant's failure stays its own."""
        try:
            return list(await asyncio.gather(*(self._poll(name, poll_one) for name in names)))
        finally:
            self.settle(names)

    async def _poll(self, name: str, poll_one: PollOne) -> PollReport:
        async with self._gate:
            config = self.definitions.configs.get(name)
            claim = self.held.get(name)
            if config is None or claim is None:  # its block went: `settle` gives it back
                return PollReport(connection=name, status="skipped", reason="no definition")
            poller = self._poller(config, claim.state)
            try:
                return await poll_one(poller)
            except Exception as exc:  # a bug in one tenant's poll must not stop the others
                report = PollReport(connection=name, worker=self.worker)
                report.fail(exc, poller.redact)
                return report
            finally:
                self._after_poll(name, poller)
                await poller.aclose()

    def give_back_all(self) -> None:
        """At the end: every claim still held is due again at once, for any worker."""
        self.settle(list(self.held))


async def block_changes(definitions: Definitions) -> DefinitionChanges:
    """List the connection blocks and parse the changed ones, on a thread: decoding thousands
    of documents would otherwise stall the ticks."""
    from poller.blocks import list_connection_blocks_blocking

    return await asyncio.to_thread(lambda: definitions.diff(list_connection_blocks_blocking()))


async def block_page_changes(definitions: Definitions) -> AsyncIterator[PageChanges]:
    """The blocks a page at a time, each page's changed blocks parsed on a thread: the
    changes and the names the page listed. What is gone is for the caller to work out once
    every page is in."""
    from poller.blocks import connection_block_pages

    async for page in connection_block_pages():
        changes = await asyncio.to_thread(definitions.diff, page, complete=False)
        yield PageChanges(changes, {block.name for block in page})


@dataclass(frozen=True)
class PageChanges:
    changes: DefinitionChanges
    listed: set[str]


def _content_stamp(config: ConnectionConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:32]


def _single(block: BlockListing) -> DefinitionChanges:
    """The changes that one freshly loaded block makes."""
    try:
        return DefinitionChanges(changed={block.name: (block.updated, block.to_config())})
    except ValidationError as exc:
        return DefinitionChanges(broken={block.name: one_line(exc)})
