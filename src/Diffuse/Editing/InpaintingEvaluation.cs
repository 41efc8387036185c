using Diffuse.Evaluation;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Editing;

/// <summary>What <see cref="InpaintingEvaluation.Run"/> measured.</summary>
/// <param name="Agreement">Share of completions the classifier gives the original's label.</param>
/// <param name="OriginalAccuracy">The classifier's accuracy on the uncut originals (the ceiling).</param>
/// <param name="MeanFillAgreement">The same share when the hole is filled with the mean image of the data (the baseline).</param>
/// <param name="KnownPixelsIdentical">Whether every known pixel of every completion equals the input's, to the 8-bit pixel.</param>
public sealed record InpaintingReport(int Images, MaskRegion Region, double Agreement, double OriginalAccuracy, double MeanFillAgreement,
    bool KnownPixelsIdentical, int Evaluations);

/// <summary>
/// Inpainting quality by label agreement: cut <see cref="MaskRegion"/> out of labelled images, complete them with RePaint, and
/// ask the project's quality classifier whether the completion is still the same class (the first acceptance test of the
/// editing issue), beside filling the hole with the data's mean image.
/// </summary>
public static class InpaintingEvaluation
{
    /// <param name="pixels">uint8 images [N, C, H, W] to cut and complete.</param>
    /// <param name="labels">their classes, int64 [N].</param>
    /// <param name="meanImage">the data's mean image [C, H, W] in [-1, 1], the baseline's fill.</param>
    public static InpaintingReport Run(ImageModel model, FeatureClassifier classifier, Tensor pixels, Tensor labels, Tensor meanImage,
        MaskRegion region, RePaintOptions options, long seed, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        long n = pixels.shape[0];
        var images = IO.PixelScale.ToSigned(pixels);
        var mask = MaskRegions.Mask(region, images.shape[2], images.shape[3]).unsqueeze(0);
        var config = model.Config.Scheduler;
        var schedule = NoiseSchedule.FromConfig(config);
        int perBatch = RePaint.Schedule(options.Steps, options.JumpLength, options.Resample).Count - 1;
        long batches = (n + model.FittingBatchSize - 1) / model.FittingBatchSize;
        var parts = new List<Tensor>();
        using var generator = new Generator((ulong)seed);
        var seeds = SampleSeeds.Draw(generator); // per image, so an image's completion does not depend on the batch size
        for (long b = 0; b < batches; b++)
        {
            long start = b * model.FittingBatchSize, size = Math.Min(model.FittingBatchSize, n - start);
            int done = (int)(b * perBatch);
            var batchProgress = progress is null ? null : OffsetBy(progress, done, (int)(batches * perBatch));
            using var batchScope = NewDisposeScope();
            using var generators = seeds.Batch(start, size);
            var filled = RePaint.Run(model.Denoise, schedule, config.PredictionType, images.narrow(0, start, size), mask, generators, options, batchProgress);
            parts.Add(filled.MoveToOuterDisposeScope());
        }
        var completions = cat(parts);
        // Compare as stored: 8-bit pixels, the known region exactly the input's.
        var completionBytes = IO.PixelScale.ToBytes(completions);
        var knownRegion = mask.eq(0).expand_as(completionBytes);
        bool identical = completionBytes.masked_select(knownRegion).eq(pixels.masked_select(knownRegion)).all().item<bool>();
        var stored = IO.PixelScale.ToSigned(completionBytes);
        var meanFilled = images * (1 - mask) + meanImage.unsqueeze(0) * mask;
        double Agree(Tensor x) => ImageQuality.PredictedClasses(classifier, x).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        return new InpaintingReport((int)n, region, Agree(stored), Agree(images), Agree(meanFilled), identical, RePaint.Evaluations(options));
    }

    static IProgress<(int Done, int Total)> OffsetBy(IProgress<(int Done, int Total)> inner, int done, int total) =>
        SyncProgress.Map<(int Done, int Total), (int Done, int Total)>(inner, value => (done + value.Done, total));
}
