namespace Diffuse.Editing;

/// <summary>Standard holes for evaluating inpainting: a half of the image, or its central square (a quarter of the area).</summary>
public enum MaskRegion
{
    Lower,
    Upper,
    Left,
    Right,
    Center,
}

public static class MaskRegions
{
    public static IReadOnlyList<string> Names { get; } = ["lower", "upper", "left", "right", "center"];

    public static MaskRegion Parse(string name) => name switch
    {
        "lower" => MaskRegion.Lower,
        "upper" => MaskRegion.Upper,
        "left" => MaskRegion.Left,
        "right" => MaskRegion.Right,
        "center" => MaskRegion.Center,
        _ => throw new DiffuseException($"unknown mask region '{name}'; expected one of: {string.Join(", ", Names)}"),
    };

    /// <summary>The mask [1, H, W], 1 where the image is regenerated.</summary>
    public static TorchSharp.torch.Tensor Mask(MaskRegion region, long height, long width)
    {
        var mask = TorchSharp.torch.zeros(1, height, width);
        var all = TorchSharp.torch.TensorIndex.Colon;
        static TorchSharp.torch.TensorIndex Range(long from, long to) => TorchSharp.torch.TensorIndex.Slice(from, to);
        switch (region)
        {
            case MaskRegion.Lower: mask[all, Range(height / 2, height), all] = 1f; break;
            case MaskRegion.Upper: mask[all, Range(0, height / 2), all] = 1f; break;
            case MaskRegion.Left: mask[all, all, Range(0, width / 2)] = 1f; break;
            case MaskRegion.Right: mask[all, all, Range(width / 2, width)] = 1f; break;
            default: mask[all, Range(height / 4, height - height / 4), Range(width / 4, width - width / 4)] = 1f; break;
        }
        return mask;
    }
}
