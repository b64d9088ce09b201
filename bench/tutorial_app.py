"""Baseline 2: FastAPI's own tutorial SQL app, written from the FastAPI documentation's
"SQL (Relational) Databases" example, clearly labelled as a baseline.

As the tutorial teaches it: SQLModel on SQLite, a *sync* engine
(``check_same_thread=False``), a session dependency with ``yield``, sync ``def``
endpoints (run in FastAPI's thread pool), ``GET /heroes/?offset=&limit=``. No middleware.
The database file comes from ``TUTORIAL_DB`` (default ``./tutorial.db``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Query
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    age: int | None = Field(default=None, index=True)
    secret_name: str


engine = create_engine(
    f"sqlite:///{os.environ.get('TUTORIAL_DB', 'tutorial.db')}",
    connect_args={"check_same_thread": False},
)


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@asynccontextmanager
async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
    SQLModel.metadata.create_all(engine)
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/heroes/")
def create_hero(hero: Hero, session: SessionDep) -> Hero:
    session.add(hero)
    session.commit()
    session.refresh(hero)
    return hero


@app.get("/heroes/")
def read_heroes(
    session: SessionDep,
    offset: int = 0,
    limit: Annotated[int, Query(le=100)] = 100,
) -> list[Hero]:
    return list(session.exec(select(Hero).offset(offset).limit(limit)).all())
