# The mlsys-reader image: gunicorn serving the app, whitenoise serving the static files.
# The same image runs the task worker (`python manage.py db_worker`); see docker-compose.yml.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image at build time; it needs no SECRET_KEY (the
# real key is given at run time, and the server refuses to start without it) and never
# touches the database.
RUN DATABASE_URL=sqlite:////tmp/collectstatic-unused.sqlite3 \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p var \
    && chown app:app var

# The code and the collected static files stay root-owned: the app cannot rewrite them.
USER app

EXPOSE 8000
CMD ["gunicorn", "mlsys_reader.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
