"""The peer: the conventional way to build this booking service, as a baseline for the bench.

One PostgreSQL transaction per booking (a conditional seat update, a booking row, an outbox
row whose JSON PostgreSQL writes) and an in-process relay from the outbox to JetStream, behind
the same routes and bodies as ours, so that the same client drives both. Written plainly, as
a good engineer would in an afternoon: FastAPI, an asyncpg pool (statements prepared once per
connection by asyncpg's statement cache), no tuning beyond that."""
