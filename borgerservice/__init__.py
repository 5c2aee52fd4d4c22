"""The composition root: the `borgerservice` command (`up`, `serve` and the tools) builds the
services on the ground of `infra/` and wires them together. Nothing imports this package."""
