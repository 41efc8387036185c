using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// Super-resolution in the style of SR3 (Saharia et al. 2021, arXiv:2104.07636): a U-Net trained with the bicubic
/// upsampling of the low-resolution image concatenated to x_t denoises, with any scheduler, from pure noise to a
/// high-resolution image consistent with the low-resolution one. With noise-conditioning augmentation (Ho et al. 2021,
/// arXiv:2106.15282, Sec. 4.3) the conditioning is first noised to a chosen level s, which the network is told.
/// Wraps a loaded <see cref="ImageModel"/> without owning it.
/// </summary>
public sealed class SuperResolution
{
    private readonly Func<DenoiserInput, Tensor>? standIn;

    public SuperResolution(ImageModel model) : this(model, null) { }

    /// <param name="denoise">Stands in for the model's network (tests); null: the model's network.</param>
    internal SuperResolution(ImageModel model, Func<DenoiserInput, Tensor>? denoise)
    {
        ArgumentNullException.ThrowIfNull(model);
        Spec = model.Config.SuperRes
            ?? throw new DiffuseException($"'{model.Directory}' is not a super-resolution model (one trained with 'diffuse train --task superres')");
        Model = model;
        standIn = denoise;
    }

    public ImageModel Model { get; }
    public SuperResSpec Spec { get; }
    public int Scale => Spec.Scale;
    /// <summary>The side of the images the model upscales.</summary>
    public int LowResolutionSize => Spec.LowResolutionSize(Model.Image.Height);

    /// <summary>
    /// The conditioning of a training batch <paramref name="x0"/>: its shrunk copy upsampled back, and with augmentation
    /// noised to levels drawn uniformly from [0, cond_noise_max] (levels first, then the noise, from
    /// <paramref name="generator"/>); levels are null without augmentation.
    /// </summary>
    public static (Tensor Conditioning, Tensor? Levels) TrainingConditioning(Tensor x0, SuperResSpec spec, GaussianDiffusion diffusion, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var condition = LowResolution.Conditioning(x0, spec.Scale);
        if (spec.CondNoiseMax is not int max) return (condition, null);
        using var levels = LowResolution.DrawLevels(x0.shape[0], max, generator);
        using var _ = condition;
        return (LowResolution.Augment(condition, levels, diffusion, generator), levels.alias());
    }

    /// <summary>Throws a one-line error unless <paramref name="low"/> is [N, C, h, h] with the model's channels and low-resolution side.</summary>
    public void CheckInput(Tensor low, string what = "the low-resolution images are")
    {
        var image = Model.Image;
        if (low.dim() != 4 || low.shape[1] != image.Channels || low.shape[2] != LowResolutionSize || low.shape[3] != LowResolutionSize)
        {
            string got = low.dim() == 4 ? $"{low.shape[1]}-channel {low.shape[3]}x{low.shape[2]}" : $"shape [{string.Join(", ", low.shape)}]";
            throw new DiffuseException($"{what} {got}, but the super-resolution model '{Model.Directory}' upscales {image.Channels}-channel " +
                                       $"{LowResolutionSize}x{LowResolutionSize} images (x{Scale} to {image.Width}x{image.Height})");
        }
    }

    /// <summary>Throws a one-line error unless <paramref name="level"/> is a noise level this model can be told.</summary>
    public void CheckNoiseLevel(int level)
    {
        if (level == 0) return;
        if (Spec.CondNoiseMax is null)
            throw new DiffuseException($"'{Model.Directory}' was trained without noise-conditioning augmentation; a conditioning noise level applies to models trained with --cond-noise-max");
        if (level < 0 || level > Model.Config.Scheduler.NumTrainTimesteps)
            throw new DiffuseException($"the conditioning noise level must lie in [0, {Model.Config.Scheduler.NumTrainTimesteps}], got {level}");
    }

    /// <summary>
    /// Upscales <paramref name="low"/> [N, C, h, h] in [-1, 1] to [N, C, h scale, h scale] in [-1, 1] with
    /// <paramref name="scheduler"/> over <paramref name="steps"/> steps, <see cref="ImageModel.BatchSize"/> images at a
    /// time. With <paramref name="noiseLevel"/> s &gt; 0 each image's conditioning is first noised to x_s (its noise drawn
    /// from the image's own generator, keyed by one draw of <paramref name="generator"/> and its index, before its starting
    /// noise), so image k is the same at any batch size.
    /// </summary>
    public Tensor Upscale(Tensor low, IScheduler scheduler, int steps, Generator generator, int noiseLevel = 0, IProgress<StepInfo>? progress = null)
    {
        CheckInput(low);
        CheckNoiseLevel(noiseLevel);
        return Model.Sample(low.shape[0], scheduler, steps, generator, new LowResolutionConditioning(low, noiseLevel, standIn), progress);
    }

    /// <summary>Network evaluations of upscaling <paramref name="n"/> images, for progress bars.</summary>
    public long StepsFor(long n, int steps) => Model.StepsFor(n, steps);
}
