"""`borgerservice bench`: named scenarios against a real nats-server and PostgreSQL, each
figure printed beside a raw baseline measured in the same run (so the ratio holds on a noisy
machine) or beside its target."""
