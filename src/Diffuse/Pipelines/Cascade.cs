using Diffuse.Guidance;
using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// A cascaded diffusion model (Ho et al. 2021, arXiv:2106.15282): a base model samples low-resolution images, which are
/// stored as 8-bit images (exactly what 'diffuse sample' then 'diffuse upscale' would pass on) and upscaled by a
/// super-resolution model, its conditioning optionally noised to a fixed level (noise-conditioning augmentation).
/// </summary>
public sealed class Cascade
{
    public Cascade(ImageModel baseModel, SuperResolution superResolution)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(superResolution);
        if (baseModel.Config.SuperRes is not null)
            throw new DiffuseException($"the first stage of a cascade samples from noise, but '{baseModel.Directory}' is a super-resolution model");
        var image = baseModel.Image;
        var target = superResolution.Model.Image;
        if (image.Channels != target.Channels)
            throw new DiffuseException($"the base model '{baseModel.Directory}' makes {image.Channels}-channel images, but the super-resolution model '{superResolution.Model.Directory}' upscales {target.Channels}-channel ones");
        if (image.Height * superResolution.Scale != target.Height || image.Width * superResolution.Scale != target.Width)
            throw new DiffuseException($"the base model '{baseModel.Directory}' makes {image.Width}x{image.Height} images, x{superResolution.Scale} = " +
                                       $"{image.Width * superResolution.Scale}x{image.Height * superResolution.Scale}, but the super-resolution model '{superResolution.Model.Directory}' " +
                                       $"makes {target.Width}x{target.Height} images from {superResolution.LowResolutionSize}x{superResolution.LowResolutionSize}");
        Base = baseModel;
        SuperResolution = superResolution;
    }

    public ImageModel Base { get; }
    public SuperResolution SuperResolution { get; }

    /// <summary>
    /// <paramref name="n"/> images at the super-resolution model's size: the base's samples (with
    /// <paramref name="conditioning"/>'s labels and guidance when set), rounded to 8-bit levels, then upscaled; both stages
    /// draw from <paramref name="generator"/>, the base first.
    /// </summary>
    public Tensor Sample(long n, (IScheduler Scheduler, int Steps) baseSampler, (IScheduler Scheduler, int Steps) superResSampler,
        Generator generator, int noiseLevel = 0, ISamplingConditioning? conditioning = null, IProgress<StepInfo>? progress = null)
    {
        SuperResolution.CheckNoiseLevel(noiseLevel);
        long baseSteps = Base.StepsFor(n, baseSampler.Steps), total = baseSteps + SuperResolution.StepsFor(n, superResSampler.Steps);
        using var low = Base.Sample(n, baseSampler.Scheduler, baseSampler.Steps, generator, conditioning, Offset(progress, 0, total));
        using var stored = IO.PixelScale.ToSigned(IO.PixelScale.ToBytes(low));
        return SuperResolution.Upscale(stored, superResSampler.Scheduler, superResSampler.Steps, generator, noiseLevel, Offset(progress, baseSteps, total));
    }

    static IProgress<StepInfo>? Offset(IProgress<StepInfo>? inner, long done, long total) =>
        inner is null ? null : StepInfo.Offset(inner, (int)Math.Min(int.MaxValue, done), (int)Math.Min(int.MaxValue, total));
}
