"""FastAPI dependencies: the app's state, its data loop (database access), the playlists file,
and :class:`~tunelens.web.services.state.Serving`, the three together with the request.

The engine and the database are deliberately *not* dependencies: a route asks for them
(``state.require_engine()``, ``loop.require_db()``) after its input is validated, so a bad
request is a 4xx even while the engine or the database is away.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tunelens.playlists.regional import PlaylistStore
from tunelens.web.services.data_loop import DataLoop
from tunelens.web.services.state import ServiceState, Serving


def get_state(request: Request) -> ServiceState:
    state = request.app.state.tunelens
    assert isinstance(state, ServiceState)
    return state


def get_data_loop(request: Request) -> DataLoop:
    loop = request.app.state.data_loop
    assert isinstance(loop, DataLoop)
    return loop


def get_playlists(request: Request) -> PlaylistStore:
    store = request.app.state.playlists
    assert isinstance(store, PlaylistStore)
    return store


StateDep = Annotated[ServiceState, Depends(get_state)]
LoopDep = Annotated[DataLoop, Depends(get_data_loop)]
PlaylistsDep = Annotated[PlaylistStore, Depends(get_playlists)]


def serving(request: Request, state: StateDep, loop: LoopDep) -> Serving:
    return Serving(request, state, loop)


ServingDep = Annotated[Serving, Depends(serving)]
