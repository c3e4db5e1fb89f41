"""Baselines for API benchmarks: the least a FastAPI endpoint can do."""

from fastapi import FastAPI

constant_app = FastAPI()


@constant_app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
