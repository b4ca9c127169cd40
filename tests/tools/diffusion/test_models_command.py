"""`retouch models` and the configuration: retouch.toml and RETOUCH_ variables choose the
edit models; the listing says what is found on disk, what is missing, and where it looked."""

from __future__ import annotations

import json

from agent.config import load_settings


def write_config(path, tiny_folder, missing) -> None:
    path.write_text(f"""
[models]
default = "kontext"
device = "cpu"

[models.operations]
relight = "qwen"

[models.edit.kontext]
kind = "flux_kontext"
path = "{tiny_folder}"
steps = 2

[models.edit.qwen]
kind = "qwen_image_edit"
path = "{missing}"
""")


def test_models_lists_found_missing_and_the_exact_paths(run_cli, tmp_path, tiny_model):
    toml = tmp_path / "retouch.toml"
    missing = tmp_path / "weights" / "Qwen-Image-Edit"
    write_config(toml, tiny_model("flux_kontext"), missing)
    done = run_cli("models", "--json", env={"RETOUCH_CONFIG": str(toml)})
    listing = {b["name"]: b for b in json.loads(done.stdout)["backends"]}
    assert listing["kontext"]["available"] is True
    assert listing["kontext"]["models"][0]["path"] == str(tiny_model("flux_kontext"))
    assert "relight" not in listing["kontext"]["operations"]  # routed to qwen
    assert listing["qwen"]["available"] is False
    assert listing["qwen"]["models"][0]["path"] == str(missing)
    assert f"{missing} does not exist" in listing["qwen"]["detail"]
    assert "Qwen2VLProcessor" in listing["qwen"]["detail"]  # which processor is active
    assert "classic" in listing

    text = run_cli("models", env={"RETOUCH_CONFIG": str(toml)}).stdout
    assert "kontext  (available)" in text and "qwen  (not available)" in text
    assert str(missing) in text


def test_environment_variables_configure_models(monkeypatch, tmp_path):
    monkeypatch.setenv("RETOUCH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("RETOUCH_MODELS__DEVICE", "cpu")
    monkeypatch.setenv("RETOUCH_MODELS__MEMORY_BUDGET_GB", "12")
    monkeypatch.setenv("RETOUCH_MODELS__EDIT", json.dumps(
        {"p2p": {"kind": "instruct_pix2pix", "path": "/models/instruct-pix2pix"}}))
    settings = load_settings()
    assert settings.models.device == "cpu" and settings.models.memory_budget_gb == 12
    assert settings.models.edit["p2p"].kind == "instruct_pix2pix"


def test_config_asking_for_remote_code_is_one_line_error(run_cli, tmp_path):
    toml = tmp_path / "retouch.toml"
    toml.write_text('[models.edit.k]\nkind = "flux_kontext"\npath = "/m/kontext"\n'
                    'trust_remote_code = true\n')
    done = run_cli("models", check=False, env={"RETOUCH_CONFIG": str(toml)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"retouch: error: bad configuration (RETOUCH_ variables or {toml}): models.edit.k: "
        "retouch never runs code shipped with a model (trust_remote_code); use a model whose "
        "pipeline is part of diffusers"]


def test_apply_runs_on_the_configured_model_and_commits(run_cli, tmp_path, tiny_model):
    from PIL import Image

    from tests.conftest import photo

    toml = tmp_path / "retouch.toml"
    toml.write_text(f'[models]\ndevice = "cpu"\n[models.edit.kontext]\nkind = "flux_kontext"\n'
                    f'path = "{tiny_model("flux_kontext")}"\nsteps = 2\nresolution = 64\n')
    env = {"RETOUCH_CONFIG": str(toml)}
    picture = tmp_path / "in.png"
    photo("coffee").resize((90, 60)).save(picture)
    run_cli("import", str(picture), env=env)
    done = run_cli("apply", "relight", "description=golden hour", "--seed", "4", "--json", env=env)
    version = json.loads(done.stdout)
    assert version["backend"] == "kontext" and version["seed"] == 4 and version["steps"] == 2
    assert version["model_id"] == str(tiny_model("flux_kontext"))
    assert (version["width"], version["height"]) == (90, 60)
    assert Image.open(picture).size == (90, 60)
