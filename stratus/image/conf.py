"""Image's configuration section ``[image]``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from stratus.core.config import Config, Section


class ImageConfig(Section):
    port: int = Field(9292, description="Port of the Image v2 API.")
    store: str = Field("file", description="Image data store: file (under the state dir) or fake (in memory).")
    store_dir: Path | None = Field(None, description="Directory of the file store (default: <state_dir>/images).")
    image_size_cap: int = Field(1099511627776, ge=0, description="Largest image data accepted, in bytes.")
    user_storage_quota: int = Field(0, ge=0, description="Bytes of image data a project may store; 0 = unlimited.")
    project_storage_quotas: dict[str, int] = Field(
        default_factory=dict, description="Per-project overrides of user_storage_quota (project id -> bytes)."
    )
    image_property_quota: int = Field(128, ge=0, description="Most custom properties on one image.")
    image_tag_quota: int = Field(128, ge=0, description="Most tags on one image.")
    image_member_quota: int = Field(128, ge=0, description="Most members of one image.")
    limit_param_default: int = Field(25, ge=1, description="Page size of image lists when no limit is given.")
    api_limit_max: int = Field(1000, ge=1, description="Largest page size of image lists.")
    chunk_size: int = Field(1024 * 1024, ge=4096, description="Bytes per chunk when streaming image data.")
    inspect_formats: bool = Field(True, description="Refuse uploads whose data does not match their disk_format.")


def load(config: Config) -> ImageConfig:
    return config.section("image", ImageConfig)


def store_dir(config: Config, image: ImageConfig) -> Path:
    return image.store_dir or config.core.state_dir / "images"
