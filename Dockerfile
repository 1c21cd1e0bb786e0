# The assistant's image, for compose.yaml (README, "Running for many schools"). By default it runs
# the Rasa server, which writes its endpoints file from the settings in its environment; the
# action server and `python -m bot purge` run from the same image with other commands.
FROM python:3.11-slim

# The Makefile's uv version (tests/test_deploy.py checks that they agree).
ARG UV_VERSION=0.13.9
# TRAIN=false builds the spaCy pipeline and the domain only; then mount a model trained for the
# same inputs (so with the same file name, `python -m bot model`) at /app/models.
ARG TRAIN=true

# Nothing leaves the machine: no telemetry. The rest as bot/launcher.py gives its children.
ENV RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning,ignore::PendingDeprecationWarning \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# The locked dependencies first, installed as `make install` does: a change to the code or the
# content does not install them again.
COPY requirements/base.lock requirements/base.lock
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --disable-pip-version-check uv==${UV_VERSION} \
    && uv pip sync --no-cache --python /opt/venv/bin/python requirements/base.lock

COPY . .
RUN if [ "$TRAIN" = true ]; then python -m bot train; else python -m bot build; fi \
    && rm -rf .rasa \
    && useradd --create-home --uid 10001 talk \
    && mkdir -p models var/run \
    && chown -R talk var

# Not root: the servers only need to write var/ (the endpoints file, var/run/).
USER talk
EXPOSE 5005
CMD ["python", "-m", "bot.server"]
