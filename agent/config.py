"""Configuration: RETOUCH_* environment variables, then retouch.toml, then defaults.

The agent is the only room that reads configuration; it passes plain values down
to storage and tools, which never read settings themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from agent.planners.config import PlannerConfig
from storage.images import DEFAULT_MAX_PIXELS
from tools.models_config import ModelsConfig


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "retouch"


def config_file() -> Path:
    """retouch.toml: $RETOUCH_CONFIG, else ./retouch.toml, else the one in the data dir."""
    explicit = os.environ.get("RETOUCH_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    local = Path("retouch.toml")
    if local.is_file():
        return local
    data_dir = Path(os.environ.get("RETOUCH_DATA_DIR") or default_data_dir()).expanduser()
    return data_dir / "retouch.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETOUCH_", env_nested_delimiter="__",
                                      extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir,
                           description="Where the history, blobs and conversations live")
    db_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0,
                            description="Largest image (width x height) accepted on import")
    models: ModelsConfig = Field(default_factory=ModelsConfig,
                                 description="Diffusion edit models, grounding, device ([models])")
    planner: PlannerConfig = Field(default_factory=PlannerConfig,
                                   description="Which planner turns requests into plans ([planner])")
    mcp_token: SecretStr | None = Field(
        None, description="Bearer token `retouch mcp --http` requires on every request "
                          "(required when it listens off loopback)")
    mcp_max_image_bytes: int = Field(
        4_000_000, gt=0, description="Largest PNG the MCP server returns; bigger images are "
                                     "sent downscaled to fit")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file()))


def load_settings(**overrides) -> Settings:
    """Settings with command-line overrides (None values are ignored); a bad setting is
    one readable line naming it, not a traceback."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        from agent.errors import AgentError

        problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: "
                             f"{error['msg'].removeprefix('Value error, ')}" for error in exc.errors())
        raise AgentError(f"bad configuration (RETOUCH_ variables or {config_file()}): {problems}") from None
