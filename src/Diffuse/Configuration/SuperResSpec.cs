using System.Text.Json.Serialization;

namespace Diffuse.Configuration;

/// <summary>
/// config.json's optional <c>super_res</c>: the model is a super-resolution U-Net in the style of SR3 (Saharia et al. 2021,
/// arXiv:2104.07636): it denoises the high-resolution image with the bicubic-upsampled low-resolution image concatenated
/// to its input channels (in_channels 2C, out_channels C). The low-resolution images are the data shrunk by
/// <see cref="Scale"/> (<c>Pipelines.LowResolution.Downsample</c>). Null, and not written, for every other model.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SuperResSpec
{
    /// <summary>The upscaling factor: low-resolution images are (size / scale) x (size / scale).</summary>
    public int Scale { get; init; } = 2;

    /// <summary>
    /// Noise-conditioning augmentation (Ho et al. 2021, arXiv:2106.15282, Sec. 4.3): during training the conditioning is
    /// replaced by x_s of the forward process started at it, s drawn uniformly from [0, CondNoiseMax], and the network
    /// is told s (<see cref="UNetConfig.NoiseLevelEmbedding"/>). Null: no augmentation (plain SR3).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? CondNoiseMax { get; init; }

    /// <summary>The side of the low-resolution images of a model of <paramref name="size"/> x <paramref name="size"/> images.</summary>
    public int LowResolutionSize(int size) => size / Scale;

    public void Validate(int numTrainTimesteps, int imageSize)
    {
        if (Scale < 2 || Scale > 16) throw new DiffuseException($"super_res scale must lie in [2, 16], got {Scale}");
        if (imageSize % Scale != 0)
            throw new DiffuseException($"super_res scale {Scale} must divide the image size {imageSize}");
        if (CondNoiseMax is { } max && (max < 0 || max > numTrainTimesteps))
            throw new DiffuseException($"super_res cond_noise_max must lie in [0, {numTrainTimesteps}] (the training timesteps), got {max}");
    }
}
