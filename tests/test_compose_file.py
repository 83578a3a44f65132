"""docker/compose.yaml, the Dockerfile and .env.example agree with the code.

No compose client exists in CI, so the file is parsed (PyYAML resolves the anchors and
merges compose uses) and checked against the settings, gunicorn's config, the nginx
template and the URLs: a variable nobody reads, a port that does not match or a health
check that probes nothing would only show up at deploy time otherwise.
"""

import re
import runpy
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE_TEXT = (DOCKER / "compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
APP_SERVERS = ["app1", "app2"]
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
TEMPLATE = (DOCKER / "nginx" / "templates" / "default.conf.template").read_text()
SETTINGS_SOURCE = "\n".join(path.read_text() for path in (ROOT / "config" / "settings").glob("*.py"))
GUNICORN_SOURCE = (ROOT / "config" / "gunicorn.conf.py").read_text()


def env_example() -> dict[str, str]:
    values = {}
    for line in (DOCKER / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def settings_variables() -> set[str]:
    """Variables the settings read with django-environ: env("X"), env.int("X", ...)..."""
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z0-9_]+)\"", SETTINGS_SOURCE))


def interpolated(text: str) -> dict[str, str]:
    """${NAME...} in a compose file: name -> the rest (":-default", ":?error" or "")."""
    return dict(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)([^}]*)\}", text))


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_the_stack_has_its_services():
    assert set(SERVICES) == {
        "db", "redis", "redis-security", "redis-broker", "migrate", *APP_SERVERS, "worker", "beat", "nginx"
    }  # fmt: skip
    # Only nginx is reachable from outside; the app servers are behind it.
    assert [name for name, service in SERVICES.items() if "ports" in service] == ["nginx"]


def test_app_containers_run_production_settings_on_the_shared_database_and_redis():
    for name in ["migrate", *APP_SERVERS, "worker", "beat"]:
        service = SERVICES[name]
        environment = service["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert service["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert service["env_file"] == ".env"
        assert re.fullmatch(
            r"postgres://\$\{POSTGRES_USER.*\}:\$\{POSTGRES_PASSWORD.*\}@db:5432/\$\{POSTGRES_DB.*\}",
            environment["DATABASE_URL"],
        )
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert environment["SECURITY_REDIS_URL"].startswith("redis://redis-security:6379/")
        assert environment["DJANGO_NUM_PROXIES"] == "1"  # nginx, and nothing else, in front
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis-broker:6379/")


def test_the_worker_and_one_beat_run_celery_on_the_app_image():
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert "deploy" not in SERVICES["beat"]  # one scheduler; the worker may scale
    for name in ["worker", "beat"]:
        assert SERVICES[name]["image"] == SERVICES["app1"]["image"]
        assert SERVICES[name]["depends_on"]["redis-broker"] == {"condition": "service_healthy"}
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    # The settings read the broker's address from the variable compose sets.
    assert "CELERY_BROKER_URL" in settings_variables()


def test_queued_tasks_are_neither_evicted_nor_lost_on_a_broker_restart():
    assert redis_option("redis-broker", "maxmemory-policy") == "noeviction"
    assert redis_option("redis-broker", "appendonly") == "yes"
    assert "brokerdata:/data" in SERVICES["redis-broker"]["volumes"]


def redis_option(service: str, option: str) -> str:
    command = SERVICES[service]["command"]
    return command[command.index(f"--{option}") + 1]


def test_a_full_cache_cannot_evict_security_state():
    # Eviction is per Redis server: the response cache, which anyone can fill, may evict;
    # the server holding throttle and lockout counters must refuse instead.
    assert redis_option("redis", "maxmemory-policy") == "allkeys-lru"
    assert redis_option("redis-security", "maxmemory-policy") == "noeviction"


def test_the_app_keeps_security_state_in_the_security_redis(monkeypatch):
    environment = SERVICES["app1"]["environment"]
    for name in ["REDIS_URL", "SECURITY_REDIS_URL"]:
        monkeypatch.setenv(name, environment[name])
    base = runpy.run_path(str(ROOT / "config" / "settings" / "base.py"))
    assert base["CACHES"]["default"]["LOCATION"] == environment["REDIS_URL"]
    assert base["CACHES"]["security"]["LOCATION"] == environment["SECURITY_REDIS_URL"]
    assert base["AXES_CACHE"] == "security"
    assert base["AXES_HANDLER"] == "axes.handlers.cache.AxesCacheHandler"


def test_production_requirements_are_in_the_env_example():
    # production.py reads these with no default: the app would not start without them.
    required = set(
        re.findall(r'= env(?:\.\w+)?\("([A-Z_]+)"\)', (ROOT / "config/settings/production.py").read_text())
    )
    assert required == {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"}
    example = env_example()
    assert required <= set(example)
    assert all(example[name] for name in required)


def test_every_django_variable_offered_is_read_by_the_settings():
    offered = set(env_example())
    for name in ["migrate", *APP_SERVERS]:
        offered |= set(SERVICES[name]["environment"])
    django_side = {name for name in offered if name.startswith(("DJANGO_", "JWT_")) or name.endswith("_URL")}
    assert django_side, "nothing to check"
    assert django_side - {"DJANGO_SETTINGS_MODULE"} <= settings_variables()


def test_each_app_server_adds_up_its_own_workers_metrics():
    # Scraped one by one; the token is optional (unset, /metrics is a 404).
    for name in APP_SERVERS:
        environment = SERVICES[name]["environment"]
        assert environment["DJANGO_METRICS_TOKEN"] == "${DJANGO_METRICS_TOKEN:-}"
        # On memory, in the container: gunicorn creates and empties it when it starts.
        assert environment["PROMETHEUS_MULTIPROC_DIR"].startswith("/dev/shm/")  # noqa: S108 - in the container
    assert '"PROMETHEUS_MULTIPROC_DIR"' in GUNICORN_SOURCE
    # Nothing else runs gunicorn, and nothing else is scraped.
    for name in ["migrate", "worker", "beat"]:
        assert "PROMETHEUS_MULTIPROC_DIR" not in SERVICES[name]["environment"], name


def test_every_gunicorn_variable_offered_is_read_by_its_config():
    offered = {name for name in env_example() if name.startswith("GUNICORN_")}
    offered |= set(re.findall(r"\b(GUNICORN_\w+)=", DOCKERFILE))
    assert offered
    for name in offered:
        assert f'"{name}"' in GUNICORN_SOURCE, name


def test_every_variable_compose_needs_is_documented_in_the_env_example():
    example = env_example()
    needed = interpolated(COMPOSE_TEXT)
    assert "POSTGRES_PASSWORD" in needed
    for name, rest in needed.items():
        if name == "BLOG_IMAGE":
            continue  # an image tag for CI/registries, not configuration
        assert name in example, name
        if rest.startswith(":?"):
            assert example[name], f"{name} is required by compose.yaml"


def test_nginx_template_variables_are_given_by_compose():
    nginx_environment = SERVICES["nginx"]["environment"]
    used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", TEMPLATE))
    # NGINX_PLAIN_PORT only appears on the "#plain: " lines the local renderer enables.
    assert used - {"NGINX_PLAIN_PORT"} == set(nginx_environment)
    # The image's envsubst replaces every *defined* variable, nginx's own included: none
    # of nginx's $variables in the template may share a name with one.
    nginx_variables = set(re.findall(r"\$([a-z_][a-z0-9_]*)", TEMPLATE))
    assert not {name.lower() for name in nginx_environment} & nginx_variables


def test_ports_line_up_from_gunicorn_to_nginx():
    gunicorn = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    app_port = port_of(gunicorn["bind"])
    dockerfile_bind = re.search(r"GUNICORN_BIND=(\S+)", DOCKERFILE).group(1)
    assert port_of(dockerfile_bind) == app_port
    assert re.search(rf"^EXPOSE {app_port}$", DOCKERFILE, re.MULTILINE)
    upstreams = re.findall(r"^\s*server (\w+):(\d+)", TEMPLATE, re.MULTILINE)
    assert sorted(upstreams) == [(name, str(app_port)) for name in APP_SERVERS]
    for name in APP_SERVERS:
        assert SERVICES[name]["expose"] == [str(app_port)]
    container_ports = {int(mapping.rsplit(":", 1)[1]) for mapping in SERVICES["nginx"]["ports"]}
    listens = {int(port) for port in re.findall(r"^\s*listen (\d+)", TEMPLATE, re.MULTILINE)}
    assert container_ports == listens == {80, 443}


def test_health_checks_probe_what_exists():
    for name in ["db", "redis", "redis-security", "redis-broker", *APP_SERVERS, "worker", "nginx"]:
        assert SERVICES[name]["healthcheck"]["test"], name
    for name in APP_SERVERS:
        assert SERVICES[name]["healthcheck"]["test"] == ["CMD", "python", "docker/healthcheck.py"]
    assert 'CMD ["python", "docker/healthcheck.py"]' in DOCKERFILE
    healthcheck = (DOCKER / "healthcheck.py").read_text()
    assert "/healthz" in healthcheck
    assert resolve("/healthz").url_name == "healthz"
    nginx_probe = SERVICES["nginx"]["healthcheck"]["test"][-1]
    assert nginx_probe.endswith("/nginx-healthz")
    assert "location = /nginx-healthz" in TEMPLATE
    # Probed over plain HTTP inside the network: production must not redirect it to HTTPS.
    assert 'r"^healthz$"' in (ROOT / "config/settings/production.py").read_text()


def test_start_order_waits_for_health_and_migrations():
    assert SERVICES["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"
    for name in APP_SERVERS:
        assert SERVICES[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "redis-security": {"condition": "service_healthy"},
            "redis-broker": {"condition": "service_healthy"},
        }
    assert SERVICES["nginx"]["depends_on"] == {name: {"condition": "service_healthy"} for name in APP_SERVERS}
    # A service waited on as healthy must have a health check to become so.
    for service in SERVICES.values():
        for dependency, rule in service.get("depends_on", {}).items():
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], dependency


def test_data_and_static_files_live_in_named_volumes():
    assert set(COMPOSE["volumes"]) == {"pgdata", "static", "media", "brokerdata"}
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert "static:/srv/static" in SERVICES["migrate"]["volumes"]
    assert "static:/srv/static:ro" in SERVICES["nginx"]["volumes"]
    assert SERVICES["nginx"]["environment"]["NGINX_STATIC_ROOT"] == "/srv/static"
    assert "/srv/static" in " ".join(SERVICES["migrate"]["command"])
    assert "migrate --noinput" in " ".join(SERVICES["migrate"]["command"])
    assert any(volume.endswith(":/etc/nginx/certs:ro") for volume in SERVICES["nginx"]["volumes"])
    assert "/etc/nginx/certs/tls.crt" in TEMPLATE


def test_uploaded_images_live_in_a_volume_the_apps_write_and_nginx_reads():
    for name in APP_SERVERS:
        assert "media:/srv/media" in SERVICES[name]["volumes"]
        assert SERVICES[name]["environment"]["DJANGO_MEDIA_ROOT"] == "/srv/media"
    assert "media:/srv/media:ro" in SERVICES["nginx"]["volumes"]
    assert SERVICES["nginx"]["environment"]["NGINX_MEDIA_ROOT"] == "/srv/media"
    assert "alias ${NGINX_MEDIA_ROOT}/;" in TEMPLATE
    # The image creates the mount point owned by the app user: a fresh named volume takes
    # that owner, so the unprivileged app can write uploads.
    assert re.search(r"mkdir -p [^&]*/srv/media\b", DOCKERFILE)
    assert re.search(r"chown app:app [^&]*/srv/media\b", DOCKERFILE)


def test_nginx_body_limit_matches_the_app():
    kib = int(re.search(r"client_max_body_size (\d+)k;", TEMPLATE).group(1))
    assert kib * 1024 == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert f"the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes" in TEMPLATE


def test_dockerfile_builds_a_slim_non_root_gunicorn_image():
    stages = re.findall(r"^FROM (\S+) AS (\w+)", DOCKERFILE, re.MULTILINE)
    assert [stage for _, stage in stages] == ["build", "runtime"]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE, re.MULTILINE)
    assert "pip install --require-virtualenv -r /tmp/requirements/prod.txt" in DOCKERFILE
    assert "manage.py collectstatic --noinput" in DOCKERFILE
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users == ["app"]
    assert 'CMD ["gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi:application"]' in DOCKERFILE
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in DOCKERFILE


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        ("blog.example.com,www.example.com", "blog.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
    ],
)
def test_the_container_health_check_names_an_allowed_host(monkeypatch, hosts, expected):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", hosts)
    healthcheck = runpy.run_path(str(DOCKER / "healthcheck.py"))
    assert healthcheck["allowed_host"]() == expected


def test_gunicorn_takes_workers_threads_and_timeouts_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "3")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "12")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.production")
    monkeypatch.delenv("DJANGO_LOG_FORMAT", raising=False)
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert (config["workers"], config["threads"], config["timeout"]) == (5, 3, 12)
    assert config["worker_class"] == "gthread"
    assert config["accesslog"] == "-"
    access_handler = config["logconfig_dict"]["handlers"]["access"]
    assert access_handler["formatter"] == "access_json"


def test_docker_waits_for_gunicorn_to_finish_requests_on_stop():
    gunicorn = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    for name in APP_SERVERS:
        grace = SERVICES[name]["stop_grace_period"]
        assert int(grace.removesuffix("s")) > gunicorn["graceful_timeout"]
