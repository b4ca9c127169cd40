"""Tiny random-weight edit pipelines, built in code and saved like a real checkpoint.

Each builder makes the same pipeline class a real model uses (FLUX.1 Kontext,
Qwen-Image-Edit, ...) from the smallest configs that still exercise every code
path, with tokenizers and processors constructed here (no download), and
`save_pretrained`s it (safetensors) into a folder. Tests then load that folder
through retouch's normal configuration and model manager, exactly as a user's
real weights would be loaded.
"""

from __future__ import annotations

from pathlib import Path

import torch

# Special tokens the Qwen pipelines put in their prompt templates.
QWEN_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                       "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]


# The ChatML layout Qwen models use (FLUX.2 [klein] applies it to its prompt).
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _byte_vocab(specials: list[str]) -> dict[str, int]:
    """A byte-level BPE vocabulary with no merges: every byte one token, specials first."""
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {token: index for index, token in enumerate(specials)}
    for char in sorted(ByteLevel.alphabet()):
        vocab.setdefault(char, len(vocab))
    return vocab


def clip_tokenizer():
    from transformers import CLIPTokenizer

    vocab = _byte_vocab(["<|startoftext|>", "<|endoftext|>"])
    # CLIP marks word ends with </w>; give every byte that form too.
    for char in list(vocab):
        if not char.startswith("<|"):
            vocab.setdefault(char + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def t5_tokenizer():
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [(chr(code), -1.0) for code in range(32, 127)] + [("\u2581", -1.0)]
    return T5TokenizerFast(vocab=pieces, extra_ids=0)


def qwen_tokenizer():
    from transformers import Qwen2Tokenizer

    tokenizer = Qwen2Tokenizer(vocab=_byte_vocab(QWEN_SPECIAL_TOKENS), merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": QWEN_SPECIAL_TOKENS[1:]})
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def _token_id(tokenizer, token: str) -> int:
    return tokenizer.convert_tokens_to_ids(token)


def _seed():
    torch.manual_seed(0)


# ---------------------------------------------------------------- FLUX.1 Kontext

def flux_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=(8, 8),
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        layers_per_block=1, latent_channels=2, norm_num_groups=4, sample_size=32,
        use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.06, scaling_factor=0.4)


def build_flux_kontext(folder: Path, inpaint: bool = False) -> Path:
    from diffusers import (FlowMatchEulerDiscreteScheduler, FluxKontextInpaintPipeline,
                           FluxKontextPipeline, FluxTransformer2DModel)
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    _seed()
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=8, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32,
        guidance_embeds=True, axes_dims_rope=(4, 4, 8))
    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=1000, projection_dim=32, max_position_embeddings=77))
    text_encoder_2 = T5EncoderModel(T5Config(
        d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=2, vocab_size=1000))
    pipeline_class = FluxKontextInpaintPipeline if inpaint else FluxKontextPipeline
    pipeline = pipeline_class(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=flux_vae(), text_encoder=text_encoder,
        tokenizer=clip_tokenizer(), text_encoder_2=text_encoder_2, tokenizer_2=t5_tokenizer(),
        transformer=transformer)
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


# ---------------------------------------------------------------- Qwen-Image-Edit

def qwen_text_encoder(tokenizer):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "num_key_value_heads": 2,
                     "vocab_size": len(tokenizer), "max_position_embeddings": 4096,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": [1, 1, 2]}},
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2,
                       "out_hidden_size": 16, "fullatt_block_indexes": [1]},
        image_token_id=_token_id(tokenizer, "<|image_pad|>"),
        video_token_id=_token_id(tokenizer, "<|video_pad|>"),
        vision_start_token_id=_token_id(tokenizer, "<|vision_start|>"),
        vision_end_token_id=_token_id(tokenizer, "<|vision_end|>"))
    return Qwen2_5_VLForConditionalGeneration(config)


def save_qwen_processor(folder: Path, tokenizer, component: str = "processor") -> None:
    """Write processor/ as the real repos ship it: image processor config plus tokenizer.

    The pipeline is saved with no processor and model_index.json then names the stock
    Qwen2VLProcessor, so retouch's loader picks the image-only or stock processor
    exactly as it does for real weights.
    """
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    # Small pixel bounds keep the tiny vision tower quick on CPU.
    image_processor = Qwen2VLImageProcessorPil(min_pixels=28 * 28, max_pixels=56 * 56)
    image_processor.save_pretrained(folder / component)
    tokenizer.save_pretrained(folder / component)
    _set_index_entry(folder, component, ["transformers", "Qwen2VLProcessor"])


def build_qwen_edit(folder: Path, kind: str = "edit") -> Path:
    """kind: 'edit' (QwenImageEditPipeline), 'plus' (2509) or 'inpaint'."""
    from diffusers import (AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler,
                           QwenImageEditInpaintPipeline, QwenImageEditPipeline,
                           QwenImageEditPlusPipeline, QwenImageTransformer2DModel)

    _seed()
    tokenizer = qwen_tokenizer()
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=4, num_layers=2, attention_head_dim=16,
        num_attention_heads=3, joint_attention_dim=16, guidance_embeds=False,
        axes_dims_rope=(8, 4, 4))
    vae = AutoencoderKLQwenImage(
        base_dim=4, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        temperal_downsample=[False, True, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    pipeline_class = {"edit": QwenImageEditPipeline, "plus": QwenImageEditPlusPipeline,
                      "inpaint": QwenImageEditInpaintPipeline}[kind]
    pipeline = pipeline_class(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
        text_encoder=qwen_text_encoder(tokenizer), tokenizer=tokenizer,
        processor=None, transformer=transformer)
    pipeline.save_pretrained(folder, safe_serialization=True)
    save_qwen_processor(folder, tokenizer)
    return folder


# ---------------------------------------------------------------- InstructPix2Pix

def build_instruct_pix2pix(folder: Path) -> Path:
    from diffusers import (AutoencoderKL, EulerAncestralDiscreteScheduler,
                           StableDiffusionInstructPix2PixPipeline, UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    _seed()
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=8,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        attention_head_dim=4, norm_num_groups=4)
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=4, layers_per_block=1)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=1000, max_position_embeddings=77))
    pipeline = StableDiffusionInstructPix2PixPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=clip_tokenizer(), unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


# ---------------------------------------------------------------- FLUX.2 [klein]

def build_flux2_klein(folder: Path) -> Path:
    from diffusers import (AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler,
                           Flux2KleinPipeline, Flux2Transformer2DModel)
    from transformers import Qwen3Config, Qwen3ForCausalLM

    _seed()
    tokenizer = qwen_tokenizer()
    # The pipeline stacks hidden states of layers 9, 18 and 27: the text model needs 28.
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=16, num_hidden_layers=28,
        num_attention_heads=2, num_key_value_heads=2, head_dim=8, max_position_embeddings=1024))
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=48, timestep_guidance_channels=32,
        axes_dims_rope=(4, 4, 4, 4), guidance_embeds=False)
    vae = AutoencoderKLFlux2(
        block_out_channels=(8, 8), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1, latent_channels=4,
        norm_num_groups=4, sample_size=32, use_quant_conv=False, use_post_quant_conv=False)
    pipeline = Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=text_encoder,
        tokenizer=tokenizer, transformer=transformer, is_distilled=True)
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


# ---------------------------------------------------------------- FLUX.2 [dev]

MISTRAL_SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]",
                          "[/SYSTEM_PROMPT]", "[IMG]", "[IMG_BREAK]", "[IMG_END]"]

# Mistral's layout, reduced to what the pipeline sends (system and user text, maybe images).
MISTRAL_CHAT_TEMPLATE = (
    "<s>{% for message in messages %}"
    "{% set parts = message['content'] if message['content'] is not string "
    "else [{'type': 'text', 'text': message['content']}] %}"
    "{% if message['role'] == 'system' %}[SYSTEM_PROMPT]{% else %}[INST]{% endif %}"
    "{% for part in parts %}{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% else %}[IMG]{% endif %}{% endfor %}"
    "{% if message['role'] == 'system' %}[/SYSTEM_PROMPT]{% else %}[/INST]{% endif %}"
    "{% endfor %}")


def build_flux2(folder: Path) -> Path:
    from diffusers import (AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2Pipeline,
                           Flux2Transformer2DModel)
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration, Qwen2Tokenizer
    from transformers.models.pixtral import PixtralImageProcessorPil

    _seed()
    tokenizer = Qwen2Tokenizer(vocab=_byte_vocab(MISTRAL_SPECIAL_TOKENS), merges=[],
                               pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<pad>")
    tokenizer.add_special_tokens({"additional_special_tokens": MISTRAL_SPECIAL_TOKENS[3:]})
    tokenizer.chat_template = MISTRAL_CHAT_TEMPLATE
    # The pipeline stacks hidden states of layers 10, 20 and 30: the text model needs 30.
    text_encoder = Mistral3ForConditionalGeneration(Mistral3Config(
        text_config={"model_type": "mistral", "hidden_size": 16, "intermediate_size": 16,
                     "num_hidden_layers": 30, "num_attention_heads": 2, "num_key_value_heads": 2,
                     "head_dim": 8, "vocab_size": len(tokenizer), "max_position_embeddings": 1024},
        vision_config={"model_type": "pixtral", "hidden_size": 16, "intermediate_size": 16,
                       "num_hidden_layers": 1, "num_attention_heads": 2, "head_dim": 8,
                       "image_size": 64, "patch_size": 16},
        image_token_index=_token_id(tokenizer, "[IMG]"), spatial_merge_size=1))
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=48, timestep_guidance_channels=32,
        axes_dims_rope=(4, 4, 4, 4), guidance_embeds=True)
    # Saved with the tokenizer, then marked as the PixtralProcessor the real repo ships
    # (whose class needs torchvision, so it cannot be built here).
    pipeline = Flux2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=flux2_vae(), text_encoder=text_encoder,
        tokenizer=tokenizer, transformer=transformer)
    pipeline.save_pretrained(folder, safe_serialization=True)
    PixtralImageProcessorPil(patch_size=16, size={"longest_edge": 64}).save_pretrained(folder / "tokenizer")
    _set_index_entry(folder, "tokenizer", ["transformers", "PixtralProcessor"])
    return folder


def _set_index_entry(folder: Path, component: str, entry: list) -> None:
    import json

    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index[component] = entry
    index_path.write_text(json.dumps(index, indent=2))


def flux2_vae():
    from diffusers import AutoencoderKLFlux2

    return AutoencoderKLFlux2(
        block_out_channels=(8, 8), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1, latent_channels=4,
        norm_num_groups=4, sample_size=32, use_quant_conv=False, use_post_quant_conv=False)


# ---------------------------------------------------------------- LongCat-Image-Edit

def build_longcat_edit(folder: Path) -> Path:
    import shutil

    from diffusers import (AutoencoderKL, FlowMatchEulerDiscreteScheduler,
                           LongCatImageEditPipeline, LongCatImageTransformer2DModel)
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    from tools.diffusion.qwen_processor import image_only_processor

    _seed()
    tokenizer = qwen_tokenizer()
    # The pipeline hard-codes 16 latent channels (64 once packed 2x2), as the real VAE has.
    transformer = LongCatImageTransformer2DModel(
        patch_size=1, in_channels=64, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=16, pooled_projection_dim=16,
        axes_dims_rope=[4, 6, 6])
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=(4, 4, 4, 4),
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1, latent_channels=16, norm_num_groups=2, sample_size=32,
        use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.1, scaling_factor=0.3)
    pipeline = LongCatImageEditPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
        text_encoder=qwen_text_encoder(tokenizer), tokenizer=tokenizer,
        text_processor=image_only_processor(Qwen2VLImageProcessorPil(), tokenizer),
        transformer=transformer)
    pipeline.save_pretrained(folder, safe_serialization=True)
    shutil.rmtree(folder / "text_processor")  # rewritten as the real repos ship it
    save_qwen_processor(folder, tokenizer, component="text_processor")
    return folder


BUILDERS = {
    "flux_kontext": build_flux_kontext,
    "flux_kontext_inpaint": lambda folder: build_flux_kontext(folder, inpaint=True),
    "qwen_image_edit": lambda folder: build_qwen_edit(folder, "edit"),
    "qwen_image_edit_plus": lambda folder: build_qwen_edit(folder, "plus"),
    "qwen_image_edit_inpaint": lambda folder: build_qwen_edit(folder, "inpaint"),
    "instruct_pix2pix": build_instruct_pix2pix,
    "flux2_klein": build_flux2_klein,
    "longcat_image_edit": build_longcat_edit,
    "flux2": build_flux2,
}


# ---------------------------------------------------------------- CLIPSeg (grounding)

def build_clipseg(folder: Path) -> Path:
    from transformers import (CLIPSegConfig, CLIPSegForImageSegmentation, CLIPSegProcessor,
                              ViTImageProcessor)

    _seed()
    config = CLIPSegConfig(
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_attention_heads": 2,
                     "num_hidden_layers": 2, "vocab_size": 1000, "max_position_embeddings": 77},
        vision_config={"hidden_size": 16, "intermediate_size": 16, "num_attention_heads": 2,
                       "num_hidden_layers": 2, "image_size": 32, "patch_size": 8},
        projection_dim=16, reduce_dim=8, extract_layers=[0, 1], decoder_num_attention_heads=2,
        decoder_intermediate_size=16)
    model = CLIPSegForImageSegmentation(config)
    model.save_pretrained(folder, safe_serialization=True)
    image_processor = ViTImageProcessor(size={"height": 32, "width": 32}, do_resize=True)
    CLIPSegProcessor(image_processor=image_processor, tokenizer=clip_tokenizer()).save_pretrained(folder)
    return folder


def build_grounding_dino(folder: Path) -> Path:
    from transformers import (BertTokenizer, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoProcessor)
    from transformers.models.grounding_dino import GroundingDinoImageProcessorPil

    _seed()
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."] + [chr(c) for c in range(97, 123)]
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(words + ["the", "cup"])})
    config = GroundingDinoConfig(
        backbone_config={"model_type": "swin", "embed_dim": 8, "depths": [1, 1, 1, 1],
                         "num_heads": [1, 1, 1, 1], "window_size": 2, "image_size": 64,
                         "out_features": ["stage2", "stage3", "stage4"], "out_indices": [2, 3, 4]},
        text_config={"model_type": "bert", "hidden_size": 16, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "intermediate_size": 16,
                     "vocab_size": len(tokenizer), "max_position_embeddings": 64},
        d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16, num_queries=10,
        encoder_n_points=1, decoder_n_points=1, max_text_len=32)
    GroundingDinoForObjectDetection(config).save_pretrained(folder, safe_serialization=True)
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96})
    GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def build_sam(folder: Path) -> Path:
    from transformers import SamConfig, SamModel, SamProcessor
    from transformers.models.sam import SamImageProcessorPil

    _seed()
    config = SamConfig(
        vision_config={"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 64, "patch_size": 16, "output_channels": 16, "mlp_dim": 16,
                       "global_attn_indexes": [0], "num_pos_feats": 8},
        prompt_encoder_config={"hidden_size": 16, "image_size": 64, "patch_size": 16,
                               "mask_input_channels": 4},
        mask_decoder_config={"hidden_size": 16, "mlp_dim": 16, "num_hidden_layers": 2,
                             "num_attention_heads": 2, "iou_head_hidden_dim": 8})
    SamModel(config).save_pretrained(folder, safe_serialization=True)
    image_processor = SamImageProcessorPil(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64})
    SamProcessor(image_processor=image_processor).save_pretrained(folder)
    return folder


BUILDERS["clipseg"] = build_clipseg
BUILDERS["grounding_dino"] = build_grounding_dino
BUILDERS["sam"] = build_sam
