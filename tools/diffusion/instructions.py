"""Operations -> instructions an edit model understands.

Instruction-edit models follow short, concrete English that names what to change
and, as importantly, what to keep ("keep her face, pose and the framing the
same"); without the keep-clause FLUX.1 Kontext and Qwen-Image-Edit redraw more than
asked. Multi-image models refer to attached images by position ("image 2" for
FLUX.2, "Picture 2" for Qwen-Image-Edit-2509, whose template labels them so).
InstructPix2Pix was trained on terse imperatives ("make it winter") and gets those.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.registry import OperationArgs

KEEP = "Keep everything else exactly the same: composition, framing, people's faces and identity."


@dataclass(frozen=True)
class Phrasing:
    """How one model family wants to be spoken to."""

    image_word: str = "image"     # how attached images are named: "image 2", "Picture 2"
    terse: bool = False           # InstructPix2Pix: short imperatives, no keep-clauses


def reference_names(operation: str, args: OperationArgs) -> list[str]:
    """The attached images an operation uses, in order, without repeats."""
    names = [getattr(args, field, None) for field in ("garment_reference", "control_image", "reference")]
    names += list(args.references)
    unique: list[str] = []
    for name in names:
        if name and name not in unique:
            unique.append(name)
    return unique


def _ref(phrasing: Phrasing, names: list[str], name: str | None, first: int = 2) -> str:
    """How the model should call attached image `name` (the edited image is number 1)."""
    return f"{phrasing.image_word} {names.index(name) + first}" if name in names else "the reference"


def instruction(operation: str, args: OperationArgs, phrasing: Phrasing,
                references: list[str] | None = None) -> str:
    """The instruction for `operation`; `references` are the attached images passed to the
    model after the edited one, in order."""
    refs = references or []
    a = args
    terse = phrasing.terse
    if operation == "remove_object":
        return (f"remove {a.target}" if terse else
                f"Remove {a.target} from the picture and fill the area with background that "
                f"continues the surroundings naturally. {KEEP}")
    if operation == "replace_object":
        return (f"turn {a.target} into {a.replacement}" if terse else
                f"Replace {a.target} with {a.replacement}, in the same place and at the same "
                f"scale, matching the scene's lighting and perspective. {KEEP}")
    if operation == "add_object":
        where = f" {a.where}" if a.where else ""
        return (f"add {a.object}{where}" if terse else
                f"Add {a.object}{where or ' where it fits naturally'}, with lighting, shadows and "
                f"perspective that match the scene. {KEEP}")
    if operation == "replace_background":
        scene = (f"the scene shown in {_ref(phrasing, refs, a.reference)}" if a.reference
                 else a.description)
        return (f"change the background to {scene}" if terse else
                f"Change the background to {scene}. Keep the main subject exactly as it is: same "
                f"pose, position, size, face and clothing; adjust only the light on the subject "
                f"to match the new background.")
    if operation == "relight":
        return (f"make the lighting {a.description}" if terse else
                f"Relight the picture: {a.description}. Change only the light, shadows and "
                f"colour temperature; keep the composition, people and every object unchanged.")
    if operation == "style_transfer":
        style = (f"the style of {_ref(phrasing, refs, a.reference)} ({a.style})" if a.reference
                 else f"{a.style} style")
        return (f"make it {a.style}" if terse else
                f"Transform the picture into {style}, keeping the composition, the subjects and "
                f"their poses recognisable.")
    if operation == "edit_text":
        where = f" on {a.where}" if a.where else ""
        if a.old_text:
            return (f'replace the text "{a.old_text}" with "{a.new_text}"' if terse else
                    f'Replace the text "{a.old_text}"{where} with "{a.new_text}", keeping the '
                    f"same font, size, colour and placement. {KEEP}")
        return (f'add the text "{a.new_text}"{where}' if terse else
                f'Add the text "{a.new_text}"{where or " where text fits naturally"}, in a font '
                f"and colour that suit the picture. {KEEP}")
    if operation == "change_camera":
        return (a.description if terse else
                f"Change the camera: {a.description}. Keep the same scene, subjects and lighting.")
    if operation == "try_on":
        garment = _ref(phrasing, refs, a.garment_reference)
        return (f"dress {a.target} in the garment" if terse else
                f"Dress {a.target} in {phrasing.image_word} 1 in the garment from {garment}, "
                f"fitted naturally to their body. Keep their face, hair, pose, body shape and the "
                f"background unchanged.")
    if operation == "control_generate":
        # The control image is the only image the model sees here.
        return (f"{a.prompt}, following the {a.kind}" if terse else
                f"Generate a photo of {a.prompt} that follows the {a.kind} of {phrasing.image_word} 1 "
                f"exactly (same layout and shapes); render it as a finished, natural picture.")
    if operation == "refine_collage":
        return (f"make it one coherent photo: {a.description}" if terse else
                f"Blend this rough collage into one coherent photograph: {a.description}. Make "
                f"light, shadows, colours and perspective consistent and clean up cut-out edges; "
                f"keep the layout and the identity of every element.")
    if operation == "edit":
        return a.instruction
    raise ValueError(f"no instruction template for operation {operation}")
