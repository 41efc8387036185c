using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Editing;

/// <summary>What <see cref="SuperResolutionEvaluation.Run"/> measured, each figure for the model and for bicubic upsampling.</summary>
/// <param name="Psnr">Mean over images of the PSNR (dB, pixels in [0, 1]) of the 8-bit upscaled image against the original.</param>
/// <param name="Accuracy">Share of upscaled images the classifier gives the original's label.</param>
/// <param name="Consistency">Mean PSNR of the upscaled image shrunk again against the low-resolution input (how well the output explains the input).</param>
/// <param name="OriginalAccuracy">The classifier's accuracy on the originals (the ceiling).</param>
public sealed record SuperResolutionReport(int Images, int Scale, double Psnr, double BicubicPsnr, double Accuracy, double BicubicAccuracy,
    double Consistency, double BicubicConsistency, double OriginalAccuracy);

/// <summary>
/// Super-resolution quality on held-out images: shrink them by the model's scale (<see cref="LowResolution.Downsample"/>),
/// upscale with the model and with plain bicubic interpolation, and compare both with the originals by PSNR and by the
/// project's quality classifier (label = the original's label), as SR3 (Saharia et al. 2021) reports PSNR beside a
/// classification accuracy of the outputs.
/// </summary>
public static class SuperResolutionEvaluation
{
    /// <param name="pixels">uint8 originals [N, C, H, W] at the model's size.</param>
    /// <param name="labels">their classes, int64 [N].</param>
    public static SuperResolutionReport Run(SuperResolution model, FeatureClassifier classifier, Tensor pixels, Tensor labels, IScheduler scheduler, int steps,
        long seed, int noiseLevel = 0, IProgress<StepInfo>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        var originals = PixelScale.ToSigned(pixels);
        var low = LowResolution.Downsample(originals, model.Scale);
        using var generator = new Generator((ulong)seed);
        // Both compared as stored: 8-bit pixels.
        var upscaled = Stored(model.Upscale(low, scheduler, steps, generator, noiseLevel, progress));
        var bicubic = Stored(LowResolution.Upsample(low, model.Scale));
        double Accuracy(Tensor x) => ImageQuality.PredictedClasses(classifier, x).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        double Consistency(Tensor x) => MeanPsnr(LowResolution.Downsample(x, model.Scale), low);
        return new SuperResolutionReport((int)pixels.shape[0], model.Scale, MeanPsnr(upscaled, originals), MeanPsnr(bicubic, originals),
            Accuracy(upscaled), Accuracy(bicubic), Consistency(upscaled), Consistency(bicubic), Accuracy(originals));
    }

    static Tensor Stored(Tensor images)
    {
        using var _ = images;
        using var bytes = PixelScale.ToBytes(images);
        return PixelScale.ToSigned(bytes);
    }

    /// <summary>
    /// The mean over images of 10 log10(1 / MSE) with pixels mapped from [-1, 1] to [0, 1]; an image's MSE is floored at
    /// 1e-10 (100 dB), so identical images give a finite figure.
    /// </summary>
    public static double MeanPsnr(Tensor images, Tensor references)
    {
        if (!images.shape.SequenceEqual(references.shape))
            throw new DiffuseException($"PSNR needs images of one shape, got [{string.Join(", ", images.shape)}] and [{string.Join(", ", references.shape)}]");
        using var scope = NewDisposeScope();
        var difference = (images.to(ScalarType.Float64) - references.to(ScalarType.Float64)) / 2;
        var mse = difference.square().flatten(1).mean([1]).clamp_min(1e-10);
        return (-10 * mse.log10()).mean().item<double>();
    }
}
