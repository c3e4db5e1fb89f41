# One image for every process: `relivchats api|projector|worker|beat|migrate`.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY relivchats ./relivchats
RUN pip install --no-cache-dir .
RUN useradd --system --create-home relivchats
USER relivchats
ENTRYPOINT ["relivchats"]
