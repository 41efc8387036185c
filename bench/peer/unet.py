"""Diffuse's UNet2D (src/Diffuse/Models/UNet2D.cs) rebuilt in PyTorch, layer for layer, for the
benchmark peer. Module names follow Diffuse's, so the state-dict keys are Diffuse's safetensors keys.
Needs PyTorch 1.13 or later (CPU); Diffuse itself never needs Python.

The one deliberate difference: PyTorch 1.13 has no scaled_dot_product_attention, so attention is
softmax(Q K^T / sqrt(d)) V written out; the FLOPs are the same.
"""
import json
import math

import torch
from torch import nn
import torch.nn.functional as F


class UNetConfig:
    """The fields of Diffuse's UNetConfig, read from its snake_case config.json."""

    def __init__(self, d):
        self.in_channels = d.get("in_channels", 1)
        self.out_channels = d.get("out_channels", 1)
        self.image_size = d.get("image_size", 28)
        self.base_channels = d.get("base_channels", 32)
        self.channel_mult = list(d.get("channel_mult", [1, 2, 2]))
        self.num_res_blocks = d.get("num_res_blocks", 2)
        self.attention_resolutions = list(d.get("attention_resolutions") or [])
        self.num_heads = d.get("num_heads", 1)
        self.dropout = d.get("dropout", 0.0)
        self.scale_shift = d.get("scale_shift", False)
        self.num_classes = d.get("num_classes")
        self.group_norm_groups = d.get("group_norm_groups", 32)
        self.resampling_with_conv = d.get("resampling_with_conv", True)

    @staticmethod
    def load(path):
        with open(path) as f:
            d = json.load(f)
        if "unet" in d and isinstance(d["unet"], dict):  # a model directory's config.json
            d = d["unet"]
        return UNetConfig(d)

    @property
    def time_embed_dim(self):
        return 4 * self.base_channels

    def level_channels(self, level):
        return self.base_channels * self.channel_mult[level]

    def level_resolution(self, level):
        return self.image_size >> level

    def attends(self, level):
        return self.level_resolution(level) in self.attention_resolutions


class GroupNorm(nn.GroupNorm):
    """nn.GroupNorm that runs in its input's dtype: PyTorch 1.13's CPU autocast leaves group_norm out and
    its kernel rejects a bf16 input with fp32 affine parameters. A no-op for fp32."""

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight.to(x.dtype), self.bias.to(x.dtype), self.eps)


class SinusoidalEmbedding(nn.Module):
    def __init__(self, dim, max_period=10000.0):
        super().__init__()
        half = dim // 2
        self.register_buffer("frequencies", torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(max_period) / half)), persistent=False)

    def forward(self, t):
        args = t.float().unsqueeze(1) * self.frequencies.unsqueeze(0)
        return torch.cat([torch.cos(args), torch.sin(args)], 1)


class ResBlock(nn.Module):
    def __init__(self, in_channels, out_channels, temb, groups, dropout, scale_shift):
        super().__init__()
        self.scale_shift = scale_shift
        self.norm1 = GroupNorm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, 2 * out_channels if scale_shift else out_channels)
        self.norm2 = GroupNorm(groups, out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv_shortcut = None if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        e = self.time_emb_proj(F.silu(temb))[:, :, None, None]
        if self.scale_shift:
            scale, shift = e.chunk(2, 1)
            h = F.silu(self.norm2(h) * (scale + 1) + shift)
        else:
            h = F.silu(self.norm2(h + e))
        h = self.conv2(self.dropout(h))
        skip = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return skip + h


class AttentionBlock(nn.Module):
    def __init__(self, channels, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = GroupNorm(groups, channels)
        self.to_qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)
        self.matmul_flops = 0  # QK^T + AV of the last forward pass, for the FLOP count

    def forward(self, x):
        b, c, hgt, wid = x.shape
        n, d = hgt * wid, c // self.heads
        qkv = self.to_qkv(self.norm(x)).reshape(b, 3, self.heads, d, n).permute(1, 0, 2, 4, 3)
        q, k, v = qkv[0], qkv[1], qkv[2]
        weights = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(d)), dim=-1)
        a = weights @ v  # [B, heads, N, d]
        self.matmul_flops = 2 * 2 * b * n * n * c
        h = a.transpose(2, 3).reshape(b, c, hgt, wid)
        return x + self.proj_out(h)


class Downsample(nn.Module):
    def __init__(self, channels, with_conv):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1) if with_conv else None

    def forward(self, x):
        return F.avg_pool2d(x, 2) if self.conv is None else self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels, with_conv):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1) if with_conv else None

    def forward(self, x):
        h = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return h if self.conv is None else self.conv(h)


class DownBlock(nn.Module):
    def __init__(self, cfg, level, in_channels, skips):
        super().__init__()
        c = cfg.level_channels(level)
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        for i in range(cfg.num_res_blocks):
            self.resnets.append(ResBlock(in_channels if i == 0 else c, c, cfg.time_embed_dim, cfg.group_norm_groups, cfg.dropout, cfg.scale_shift))
            if cfg.attends(level):
                self.attentions.append(AttentionBlock(c, cfg.num_heads, cfg.group_norm_groups))
            skips.append(c)
        if level < len(cfg.channel_mult) - 1:
            self.downsamplers.append(Downsample(c, cfg.resampling_with_conv))
            skips.append(c)

    def forward(self, h, temb, skips):
        for i, res in enumerate(self.resnets):
            h = res(h, temb)
            if len(self.attentions) > 0:
                h = self.attentions[i](h)
            skips.append(h)
        for down in self.downsamplers:
            h = down(h)
            skips.append(h)
        return h


class MidBlock(nn.Module):
    def __init__(self, cfg, channels):
        super().__init__()
        self.resnets = nn.ModuleList([ResBlock(channels, channels, cfg.time_embed_dim, cfg.group_norm_groups, cfg.dropout, cfg.scale_shift) for _ in range(2)])
        self.attentions = nn.ModuleList([AttentionBlock(channels, cfg.num_heads, cfg.group_norm_groups)])

    def forward(self, h, temb):
        return self.resnets[1](self.attentions[0](self.resnets[0](h, temb)), temb)


class UpBlock(nn.Module):
    def __init__(self, cfg, level, in_channels, skips):
        super().__init__()
        c = cfg.level_channels(level)
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()
        self.upsamplers = nn.ModuleList()
        for i in range(cfg.num_res_blocks + 1):
            inputs = (in_channels if i == 0 else c) + skips.pop()
            self.resnets.append(ResBlock(inputs, c, cfg.time_embed_dim, cfg.group_norm_groups, cfg.dropout, cfg.scale_shift))
            if cfg.attends(level):
                self.attentions.append(AttentionBlock(c, cfg.num_heads, cfg.group_norm_groups))
        if level > 0:
            self.upsamplers.append(Upsample(c, cfg.resampling_with_conv))

    def forward(self, h, temb, skips):
        for i, res in enumerate(self.resnets):
            h = res(torch.cat([h, skips.pop()], 1), temb)
            if len(self.attentions) > 0:
                h = self.attentions[i](h)
        for up in self.upsamplers:
            h = up(h)
        return h


class UNet2D(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        temb = cfg.time_embed_dim
        self.time_proj = SinusoidalEmbedding(cfg.base_channels)
        self.time_embedding = nn.Sequential()
        self.time_embedding.add_module("linear_1", nn.Linear(cfg.base_channels, temb))
        self.time_embedding.add_module("act", nn.SiLU())
        self.time_embedding.add_module("linear_2", nn.Linear(temb, temb))
        self.class_embedding = nn.Embedding(cfg.num_classes + 1, temb) if cfg.num_classes is not None else None
        self.conv_in = nn.Conv2d(cfg.in_channels, cfg.base_channels, 3, padding=1)
        skips = [cfg.base_channels]
        channels = cfg.base_channels
        self.down_blocks = nn.ModuleList()
        for level in range(len(cfg.channel_mult)):
            self.down_blocks.append(DownBlock(cfg, level, channels, skips))
            channels = cfg.level_channels(level)
        self.mid_block = MidBlock(cfg, channels)
        self.up_blocks = nn.ModuleList()
        for level in reversed(range(len(cfg.channel_mult))):
            self.up_blocks.append(UpBlock(cfg, level, channels, skips))
            channels = cfg.level_channels(level)
        self.conv_norm_out = GroupNorm(cfg.group_norm_groups, channels)
        self.conv_out = nn.Conv2d(channels, cfg.out_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x, t, class_labels=None):
        temb = self.time_embedding(self.time_proj(t).to(x.dtype))
        if self.class_embedding is not None:
            if class_labels is None:
                class_labels = torch.full((x.shape[0],), self.cfg.num_classes, dtype=torch.int64)
            temb = temb + self.class_embedding(class_labels)
        skips = []
        h = self.conv_in(x)
        skips.append(h)
        for down in self.down_blocks:
            h = down(h, temb, skips)
        h = self.mid_block(h, temb)
        for up in self.up_blocks:
            h = up(h, temb, skips)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def forward_flops(model, batch=1):
    """Convolution, attention-matmul and linear FLOPs of one forward pass (a multiply-add = 2), counted by
    forward hooks on the real layers: the same rule as Diffuse's FlopCount, measured rather than derived."""
    cfg = model.cfg
    counts = {"convolution": 0, "attention_matmul": 0, "linear": 0}

    def conv_hook(m, inputs, output):
        kh, kw = m.kernel_size
        counts["convolution"] += 2 * (m.in_channels // m.groups) * m.out_channels * kh * kw * output.numel() // m.out_channels

    def linear_hook(m, inputs, output):
        counts["linear"] += 2 * m.in_features * output.numel()

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(batch, cfg.in_channels, cfg.image_size, cfg.image_size), torch.zeros(batch, dtype=torch.int64))
    for h in handles:
        h.remove()
    counts["attention_matmul"] = sum(m.matmul_flops for m in model.modules() if isinstance(m, AttentionBlock))
    counts["total"] = counts["convolution"] + counts["attention_matmul"] + counts["linear"]
    return counts
