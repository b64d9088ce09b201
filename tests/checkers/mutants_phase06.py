"""Plausible wrong answers for lab 06: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "6.1": [
        # the seed's repository: any name becomes getattr(Product, name) == value
        """
        statement = sa.select(Product).where(Product.is_active.is_(True))
        for name, value in filters.items():
            if value is not None:
                statement = statement.where(getattr(Product, name) == value)
        rows = await session.scalars(statement.order_by(Product.id))
        return list(rows.all())
        """,
        # an allow-list, but unknown names are skipped silently instead of refused
        """
        conditions = [Product.is_active.is_(True)]
        for name, value in filters.items():
            if name not in ALLOWED_FILTERS or value is None:
                continue
            if name == "category":
                conditions.append(Product.category == value)
            elif name == "max_price_cents":
                conditions.append(Product.price_cents <= value)
            else:
                conditions.append(Product.name.icontains(value, autoescape=True))
        rows = await session.scalars(sa.select(Product).where(*conditions).order_by(Product.id))
        return list(rows.all())
        """,
        # forgets the visibility rule: the inactive prototype is listed
        """
        conditions = []
        for name, value in filters.items():
            if name not in ALLOWED_FILTERS:
                raise UnknownFilterError(name)
            if value is None:
                continue
            if name == "category":
                conditions.append(Product.category == value)
            elif name == "max_price_cents":
                conditions.append(Product.price_cents <= value)
            else:
                conditions.append(Product.name.icontains(value, autoescape=True))
        rows = await session.scalars(sa.select(Product).where(*conditions).order_by(Product.id))
        return list(rows.all())
        """,
        # a LIKE built by hand: '%' typed by the user matches every name
        """
        conditions = [Product.is_active.is_(True)]
        for name, value in filters.items():
            if name not in ALLOWED_FILTERS:
                raise UnknownFilterError(name)
            if value is None:
                continue
            if name == "category":
                conditions.append(Product.category == value)
            elif name == "max_price_cents":
                conditions.append(Product.price_cents <= value)
            else:
                conditions.append(Product.name.ilike(f"%{value}%"))
        rows = await session.scalars(sa.select(Product).where(*conditions).order_by(Product.id))
        return list(rows.all())
        """,
        # 'at most' read as 'less than': the bound itself is excluded
        """
        conditions = [Product.is_active.is_(True)]
        for name, value in filters.items():
            if name not in ALLOWED_FILTERS:
                raise UnknownFilterError(name)
            if value is None:
                continue
            if name == "category":
                conditions.append(Product.category == value)
            elif name == "max_price_cents":
                conditions.append(Product.price_cents < value)
            else:
                conditions.append(Product.name.icontains(value, autoescape=True))
        rows = await session.scalars(sa.select(Product).where(*conditions).order_by(Product.id))
        return list(rows.all())
        """,
        # None values skipped before the name is checked: {'is_active': None} slips through
        """
        conditions = [Product.is_active.is_(True)]
        for name, value in filters.items():
            if value is None:
                continue
            if name not in ALLOWED_FILTERS:
                raise UnknownFilterError(name)
            if name == "category":
                conditions.append(Product.category == value)
            elif name == "max_price_cents":
                conditions.append(Product.price_cents <= value)
            else:
                conditions.append(Product.name.icontains(value, autoescape=True))
        rows = await session.scalars(sa.select(Product).where(*conditions).order_by(Product.id))
        return list(rows.all())
        """,
    ],
    "6.2": [
        # the classic N+1: one query for the orders, then one per order
        """
        orders = (await session.scalars(sa.select(Order).order_by(Order.id))).all()
        result = []
        for order in orders:
            product_ids = await session.scalars(
                sa.select(OrderItem.product_id)
                .where(OrderItem.order_id == order.id)
                .order_by(OrderItem.id)
            )
            result.append((order.id, list(product_ids)))
        return result
        """,
        # the same N+1, hidden behind lazy loading in synchronous code
        """
        from sqlalchemy.orm import lazyload

        def load(sync_session):
            orders = sync_session.scalars(
                sa.select(Order).options(lazyload(Order.items)).order_by(Order.id)
            )
            return [(order.id, [item.product_id for item in order.items]) for order in orders]

        return await session.run_sync(load)
        """,
        # touches order.items without loading it: lazy='raise' says no
        """
        orders = await session.scalars(sa.select(Order).order_by(Order.id))
        return [(order.id, [item.product_id for item in order.items]) for order in orders]
        """,
        # one query over the items: fast, but orders without items disappear
        """
        rows = await session.execute(
            sa.select(OrderItem.order_id, OrderItem.product_id).order_by(
                OrderItem.order_id, OrderItem.id
            )
        )
        grouped = {}
        for order_id, product_id in rows:
            grouped.setdefault(order_id, []).append(product_id)
        return list(grouped.items())
        """,
    ],
    "6.3": [
        # the seed's get_db: the commit runs in the dependency, after the response
        """
        from typing import Annotated

        from fastapi import Depends, Request

        async def get_db(request: Request):
            async with request.state.database.sessions() as session:
                try:
                    yield session
                    await session.commit()
                except Exception:
                    await session.rollback()
                    raise

        app = create_app(settings)

        @app.post("/api/imports/products", status_code=201)
        async def import_product(
            body: ImportedProduct, session: Annotated[AsyncSession, Depends(get_db)]
        ) -> ImportResult:
            product = Product(**body.model_dump())
            session.add(product)
            await session.flush()
            return ImportResult(id=product.id, sku=product.sku)

        return app
        """,
        # flushes (so the id exists) but never commits: rolled back when the session closes
        """
        app = create_app(settings)

        @app.post("/api/imports/products", status_code=201)
        async def import_product(body: ImportedProduct, session: SessionDep) -> ImportResult:
            product = Product(**body.model_dump())
            session.add(product)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise DuplicateSkuError(body.sku) from exc
            return ImportResult(id=product.id, sku=product.sku)

        return app
        """,
        # commits, but a duplicate is an unhandled IntegrityError: a 500, not a 409
        """
        app = create_app(settings)

        @app.post("/api/imports/products", status_code=201)
        async def import_product(body: ImportedProduct, session: SessionDep) -> ImportResult:
            product = Product(**body.model_dump())
            session.add(product)
            await session.commit()
            return ImportResult(id=product.id, sku=product.sku)

        return app
        """,
        # swallows the failed commit and still answers 201
        """
        app = create_app(settings)

        @app.post("/api/imports/products", status_code=201)
        async def import_product(body: ImportedProduct, session: SessionDep) -> ImportResult:
            product = Product(**body.model_dump())
            session.add(product)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
            return ImportResult(id=product.id or 0, sku=body.sku)

        return app
        """,
        # FastAPI's scope="function" closes the dependency before the response: better
        # than the seed (no lie), but the duplicate is still a 500
        """
        from typing import Annotated

        from fastapi import Depends, Request

        async def get_db(request: Request):
            async with request.state.database.sessions() as session:
                yield session
                await session.commit()

        app = create_app(settings)

        @app.post("/api/imports/products", status_code=201)
        async def import_product(
            body: ImportedProduct,
            session: Annotated[AsyncSession, Depends(get_db, scope="function")],
        ) -> ImportResult:
            product = Product(**body.model_dump())
            session.add(product)
            await session.flush()
            return ImportResult(id=product.id, sku=product.sku)

        return app
        """,
    ],
    "6.4": [
        # the autogenerated script, applied without review: NOT NULL and no default
        """
        def upgrade() -> None:
            with op.batch_alter_table("products") as batch_op:
                batch_op.add_column(sa.Column("weight_grams", sa.Integer(), nullable=False))
            op.create_index("ix_products_weight_grams", "products", ["weight_grams"])


        def downgrade() -> None:
            op.drop_index("ix_products_weight_grams", table_name="products")
            with op.batch_alter_table("products") as batch_op:
                batch_op.drop_column("weight_grams")
        """,
        # the downgrade forgets the index: the batch copy cannot recreate it
        """
        def upgrade() -> None:
            with op.batch_alter_table("products") as batch_op:
                batch_op.add_column(
                    sa.Column("weight_grams", sa.Integer(), server_default="0", nullable=False)
                )
            op.create_index("ix_products_weight_grams", "products", ["weight_grams"])


        def downgrade() -> None:
            with op.batch_alter_table("products") as batch_op:
                batch_op.drop_column("weight_grams")
        """,
        # nullable with a default: existing rows are fine, but NULL is allowed later
        """
        def upgrade() -> None:
            with op.batch_alter_table("products") as batch_op:
                batch_op.add_column(
                    sa.Column("weight_grams", sa.Integer(), server_default="0", nullable=True)
                )
            op.create_index("ix_products_weight_grams", "products", ["weight_grams"])


        def downgrade() -> None:
            op.drop_index("ix_products_weight_grams", table_name="products")
            with op.batch_alter_table("products") as batch_op:
                batch_op.drop_column("weight_grams")
        """,
        # the PostgreSQL recipe (add nullable, fill, then ALTER): SQLite has no ALTER COLUMN
        """
        def upgrade() -> None:
            op.add_column("products", sa.Column("weight_grams", sa.Integer(), nullable=True))
            op.execute("UPDATE products SET weight_grams = 0")
            op.alter_column("products", "weight_grams", nullable=False, server_default="0",
                            existing_type=sa.Integer())
            op.create_index("ix_products_weight_grams", "products", ["weight_grams"])


        def downgrade() -> None:
            op.drop_index("ix_products_weight_grams", table_name="products")
            op.drop_column("products", "weight_grams")
        """,
        # Python-side default only: the database itself has no default for the column
        """
        def upgrade() -> None:
            with op.batch_alter_table("products") as batch_op:
                batch_op.add_column(
                    sa.Column("weight_grams", sa.Integer(), default=0, nullable=False)
                )
            op.create_index("ix_products_weight_grams", "products", ["weight_grams"])


        def downgrade() -> None:
            op.drop_index("ix_products_weight_grams", table_name="products")
            with op.batch_alter_table("products") as batch_op:
                batch_op.drop_column("weight_grams")
        """,
        # no downgrade at all
        """
        def upgrade() -> None:
            with op.batch_alter_table("products") as batch_op:
                batch_op.add_column(
                    sa.Column("weight_grams", sa.Integer(), server_default="0", nullable=False)
                )
            op.create_index("ix_products_weight_grams", "products", ["weight_grams"])


        def downgrade() -> None:
            pass
        """,
    ],
}
