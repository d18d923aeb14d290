"""Project > Images: the list (live while an upload is being saved), upload with a progress bar, delete."""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from stratus.dashboard.api import ApiError
from stratus.dashboard.views.deps import Page, PageError, Post, View

LOG = logging.getLogger(__name__)
router = APIRouter(prefix="/project/images")
DISK_FORMATS = ("qcow2", "raw", "iso", "vmdk", "vdi", "vhd", "vhdx", "ami", "ari", "aki")
CHANGING = {"queued", "saving", "importing", "uploading"}


def _rows(view: View) -> dict[str, Any]:
    images = view.clients.image.images()
    return {"images": images, "polling": any(i.get("status") in CHANGING for i in images)}


@router.get("/")
def images(view: View = Page) -> Response:
    return view.page("images.html", disk_formats=DISK_FORMATS, **_rows(view))


@router.get("/rows")
def image_rows(view: View = Page) -> Response:
    return view.page("_image_rows.html", **_rows(view))


@router.post("/upload")
def upload(
    view: View = Post,
    name: str = Form(""),
    disk_format: str = Form("qcow2"),
    visibility: str = Form("private"),
    file: UploadFile = File(...),
) -> Response:
    """Create the image, then stream the uploaded file (spooled by the form parser) to the image API."""
    back = "/project/images/"
    if disk_format not in DISK_FORMATS or visibility not in ("private", "shared", "community", "public"):
        raise PageError(400, "Unknown disk format or visibility.")
    name = name.strip() or (file.filename or "image")
    size = file.file.seek(0, os.SEEK_END)
    file.file.seek(0)
    api = view.clients.image
    try:
        image = api.create(name, disk_format, "bare", visibility)
    except ApiError as err:
        if err.status == 401:
            raise
        view.session.flash("error", str(err))
        return view.web.redirect(view.request, back)
    try:
        api.upload(image["id"], file.file, size)
    except ApiError as err:
        if err.status == 401:
            raise
        view.session.flash("error", f"Upload of {name} failed: {err}")
        try:
            api.delete(image["id"])  # leave no empty queued image behind
        except ApiError as cleanup:
            LOG.warning("could not delete the failed upload %s: %s", image["id"], cleanup)
        return view.web.redirect(view.request, back)
    return view.redirect(back, success=f"Image {name} uploaded ({size:,} bytes).")


@router.post("/{image_id}/delete")
def delete(image_id: str, view: View = Post) -> Response:
    return view.attempt("/project/images/", "Image deleted.", lambda: view.clients.image.delete(image_id))
