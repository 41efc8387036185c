using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// What the U-Net's cross-attention layers attend to: the text encoder's token states [B, L, D] and the key mask [B, L]
/// (bool, true for real tokens; padding is false and never attended to).
/// </summary>
internal sealed record TextContext(Tensor Hidden, Tensor Mask);
