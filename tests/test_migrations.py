"""Migrations: `db upgrade` is idempotent and leaves exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from models.db import current_revision, head_revision, upgrade


async def test_upgrade_twice_is_harmless(engine) -> None:
    await upgrade(engine)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


async def test_migrations_match_the_models(engine) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_matrix_migration_keeps_the_rows_and_admits_the_new_channel(
    database_url: str,
) -> None:
    """0008 rebuilds the tables holding a channel (on SQLite): nothing queued, delivered or
    linked before it may be lost, and `matrix` is then accepted where `fax` is not."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from models.db import alembic_config, create_engine

    engine = create_engine(database_url)

    def to(revision: str):
        def run(connection) -> None:
            if revision == "base":
                return
            config = alembic_config(str(connection.engine.url))
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

        return run

    async with engine.begin() as connection:
        await connection.run_sync(to("0006"))
    rows = {
        "units": "INSERT INTO units (id, code, name, kind) VALUES (1, 'U', 'Unit', 'office')",
        "officials": "INSERT INTO officials (id, code, full_name, position, unit_id, phone, email, "
        "language, active) VALUES (1, 'O', 'Official', 'Chuyên viên', 1, '', '', 'vi', true)",
        "chat_accounts": "INSERT INTO chat_accounts (channel, external_user_id, chat_id, "
        "official_id, linked_at) VALUES ('zalo', 'z1', 'z1', 1, '2026-11-25 02:00:00')",
        "outbox": "INSERT INTO outbox (id, key, channel, chat_id, text, buttons, priority, state, "
        "attempts, created_at, not_before, error) VALUES (7, 'k', 'zalo', 'z1', 'hi', '[]', "
        "1, 'sent', 1, '2026-11-25 02:00:00', '2026-11-25 02:00:00', '')",
        "delivery_attempts": "INSERT INTO delivery_attempts (outbox_id, at, outcome, detail) "
        "VALUES (7, '2026-11-25 02:00:00', 'sent', 'm1')",
    }
    async with engine.begin() as connection:
        for statement in rows.values():
            await connection.execute(text(statement))
    await upgrade(engine)
    async with engine.begin() as connection:
        for table in rows:
            count = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
            assert count == 1, table
        await connection.execute(
            text(
                "INSERT INTO chat_accounts (channel, external_user_id, chat_id, official_id, "
                "linked_at) VALUES ('matrix', :user, :room, 1, '2026-11-25 02:00:00')"
            ),
            {"user": "@" + "u" * 200 + ":thanhpho.gov.vn", "room": "!r:thanhpho.gov.vn"},
        )
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO chat_accounts (channel, external_user_id, chat_id, official_id,"
                    " linked_at) VALUES ('fax', 'f', 'f', 1, '2026-11-25 02:00:00')"
                )
            )
    except IntegrityError:
        pass
    else:
        raise AssertionError("the CHECK constraint lets any channel in")
    finally:
        await engine.dispose()
