"""Keep the Gaps page's first visit fast: compute what it shows as soon as the data changes.

The gap report is computed once per data version (:func:`cached_analysis`), but at 100k
nodes that once takes seconds, and without this the first person to open the Gaps page after
a load waits for it.  A :class:`Warmer` in the web server notices a new data version (a
``stat`` of the embedded store's file, one small query on Neo4j, every few seconds) and
computes the default gap report, the referral network, the search index, the Map page's
default view (9-15 s at 100k nodes, plus the map's activity table) and what every consortium
report starts from (the organisations' tie graph, its Louvain groupings, and each need's
activities by place: seconds of a ``pathways consortia`` first call at 100k) in the
background, so visits, clicks, searches, row selections and consortium reports find them ready.
A visit during the computation waits for that same computation rather than starting another.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from pathways.analysis.consortia import communities, covers_index  # builds the tie graph too
from pathways.analysis.gaps import GapQuery, gap_report, referral_network
from pathways.analysis.geo import MapQuery, map_data
from pathways.analysis.search import search_index
from pathways.analysis.snapshot import cached_analysis
from pathways.errors import PathwaysError
from pathways.model import DEFAULT_MAX_HOPS
from pathways.store.base import GraphStore

log = logging.getLogger(__name__)


class Warmer:
    """Compute the Gaps page's default report for each new data version, in a daemon thread.

    >>> from pathways.store.embedded import EmbeddedStore
    >>> store = EmbeddedStore()  # in memory, empty
    >>> warmer = Warmer(lambda: store)
    >>> warmer.warm_once(), warmer.warm_once()  # computed, then already warm
    (True, False)
    """

    def __init__(self, get_store: Callable[[], GraphStore], interval: float = 5.0,
                 max_hops: int = DEFAULT_MAX_HOPS) -> None:
        self.get_store = get_store
        self.interval = interval
        self.max_hops = max_hops
        self._warmed: tuple | None = None  # (store id, version, date) last computed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def warm_once(self) -> bool:
        """Compute the default gap report, the referral network, the search index, the
        Map page's first view (its activity table and default map), the consortium
        reports' tie graph, communities and each need's activities by place, and the store's
        own per-version indexes (:meth:`GraphStore.prepare_reads`: the embedded pathway
        search's) if the data (or the date, which the report's review ages depend on)
        changed; True if it computed."""
        store = self.get_store()
        today = dt.date.today()
        seen = (id(store), store.version(), today)
        if seen == self._warmed:
            return False

        def compute() -> None:
            gap_report(store, GapQuery(max_hops=self.max_hops, as_of=today))
            referral_network(store)
            search_index(store)
            map_data(store, MapQuery(max_hops=self.max_hops))
            cached_analysis(store, "communities", communities)
            cached_analysis(store, "consortium cells", covers_index)
            store.prepare_reads()

        store.consistent(compute)
        self._warmed = seen
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.warm_once()
            except PathwaysError as exc:  # the page shows it to whoever opens it
                log.warning("could not prepare the gap report in advance: %s", exc)
            self._stop.wait(self.interval)

    def start(self) -> Warmer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pathways-warmer", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
