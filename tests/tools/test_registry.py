"""The operation registry: the canonical operations and their arguments are a contract
(planners and the evaluation use them); bad arguments give one clear line."""

from __future__ import annotations

import pytest
from PIL import Image

from tools.classic import ClassicBackend
from tools.errors import ToolError, UnknownOperation, Unsupported
from tools.registry import EditContext, Toolbox, get_operation, operations, validate_args

CANONICAL = {
    "remove_object": {"target"},
    "replace_object": {"target", "replacement"},
    "add_object": {"object", "where"},
    "replace_background": {"description", "reference"},
    "relight": {"description"},
    "style_transfer": {"style", "reference"},
    "edit_text": {"new_text", "old_text", "where"},
    "change_camera": {"description"},
    "try_on": {"garment_reference", "target"},
    "control_generate": {"control_image", "kind", "prompt"},
    "refine_collage": {"description"},
    "edit": {"instruction"},
}
GLOBAL = {"relight", "style_transfer", "change_camera", "control_generate", "refine_collage"}


def test_every_canonical_operation_is_registered_with_its_arguments():
    specs = operations()
    assert set(CANONICAL) <= set(specs)
    for name, arguments in CANONICAL.items():
        fields = set(specs[name].args_model.model_fields)
        assert arguments | {"mask", "references"} <= fields, name
        assert specs[name].local == (name not in GLOBAL), name


def test_descriptions_are_written_for_an_llm():
    for spec in operations().values():
        assert 20 < len(spec.description) < 300 and "\n" not in spec.description
        for field_name, field in spec.args_model.model_fields.items():
            assert field.description, f"{spec.name}.{field_name} has no description"


def test_only_replace_background_keeps_what_its_mask_marks():
    assert [spec.name for spec in operations().values() if spec.mask_keeps] == ["replace_background"]


@pytest.mark.parametrize("args, problem", [
    ({"target": "   "}, "target"),                       # empty target
    ({}, "target"),                                      # missing target
    ({"target": "cup", "colour": "red"}, "colour"),      # an argument it does not have
])
def test_bad_arguments_give_one_line_naming_the_field(args, problem):
    with pytest.raises(ToolError) as error:
        validate_args("remove_object", args)
    message = str(error.value)
    assert "remove_object" in message and problem in message and "\n" not in message


def test_arguments_are_stripped_and_defaults_filled():
    parsed = validate_args("try_on", {"garment_reference": " reference 1 "})
    assert parsed.garment_reference == "reference 1" and parsed.target == "person"
    assert parsed.references == [] and parsed.mask is None


def test_unknown_operation_lists_the_known_ones():
    with pytest.raises(UnknownOperation, match="remove_object"):
        get_operation("paint_it_black")


def test_operations_classic_cannot_do_ask_for_a_diffusion_backend():
    toolbox = Toolbox([ClassicBackend()])
    image = Image.new("RGB", (32, 32), "white")
    for name in ("add_object", "replace_object", "edit_text", "try_on", "control_generate",
                 "refine_collage", "edit"):
        args = {field: "reference 1" if field in ("garment_reference", "control_image") else "x"
                for field, info in get_operation(name).args_model.model_fields.items()
                if info.is_required()}
        with pytest.raises(Unsupported, match=r"needs a diffusion backend \(see `retouch models`\)"):
            toolbox.run(name, image, args)
    with pytest.raises(Unsupported, match="classic' cannot do add_object: it needs a diffusion"):
        toolbox.run("add_object", image, {"object": "a hat"}, backend="classic")
    with pytest.raises(ToolError, match="no backend 'kontext'"):
        toolbox.run("relight", image, {"description": "warm"}, backend="kontext")


def test_naming_a_mask_that_was_not_attached_is_an_error():
    toolbox = Toolbox([ClassicBackend()])
    with pytest.raises(ToolError, match="no mask or scribble came with the request"):
        toolbox.run("remove_object", Image.new("RGB", (32, 32)), {"target": "cup", "mask": "mask"})


def test_references_resolve_as_the_user_counts_them():
    first, second = Image.new("RGB", (4, 4), "red"), Image.new("RGB", (4, 4), "blue")
    ctx = EditContext(references=[first, second])
    assert ctx.reference("reference 2") is second and ctx.reference("reference 1") is first
    with pytest.raises(ToolError, match="'reference 3' was asked for but 2 reference"):
        ctx.reference("reference 3")
