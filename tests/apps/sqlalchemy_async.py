"""SQLAlchemy 2's asyncio extension over psycopg inside handlers (its greenlet bridge runs on
the worker loop). On 3.13t, importing greenlet (whose cp313t wheel is not declared GIL-free)
turns the GIL back on for this process; /gil reports it."""
import os
import sys
import threading

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import fastcore

app = fastcore.FastCore()
engines: dict[int, tuple] = {}


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def session() -> async_sessionmaker[AsyncSession]:
    me = threading.get_ident()
    if me not in engines:
        dsn = os.environ["PG_DSN"]
        parts = dict(p.split("=", 1) for p in dsn.split())
        url = f"postgresql+psycopg://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"
        engine = create_async_engine(url, pool_size=2)
        engines[me] = (engine, async_sessionmaker(engine, expire_on_commit=False))
    return engines[me][1]


@app.get("/gil")
def gil():
    return {"gil_enabled": sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True}


@app.get("/items")
async def items():
    make = session()
    engine = engines[threading.get_ident()][0]
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    async with make() as s:
        s.add_all([Item(id=1, name="one"), Item(id=2, name="two")])
        await s.commit()
    async with make() as s:
        names = (await s.scalars(select(Item.name).order_by(Item.id))).all()
    return {"names": list(names)}
