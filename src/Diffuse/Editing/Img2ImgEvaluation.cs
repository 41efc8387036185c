using Diffuse.Evaluation;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Sampling;
using static TorchSharp.torch;

namespace Diffuse.Editing;

/// <summary>One strength of <see cref="Img2ImgEvaluation.Run"/>: how far the edits moved and whether they kept their class.</summary>
/// <param name="Distance">Root-mean-square pixel difference to the input, in [-1, 1] units (0 = unchanged, about 1 = unrelated).</param>
/// <param name="Agreement">Share of edits the classifier gives the input's label.</param>
public sealed record Img2ImgRow(double Strength, int Steps, double Distance, double Agreement);

/// <summary>
/// The img2img trade-off: labelled images edited by SDEdit at several strengths, each scored by its distance to the input
/// and by whether the project's classifier still gives it the input's label (the editing issue's strength table).
/// </summary>
public static class Img2ImgEvaluation
{
    public static IReadOnlyList<Img2ImgRow> Run(ImageModel model, FeatureClassifier classifier, Tensor pixels, Tensor labels, IScheduler scheduler,
        int steps, IReadOnlyList<double> strengths, long seed, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var s in strengths) Img2Img.CheckStrength(s);
        using var scope = NewDisposeScope();
        var images = IO.PixelScale.ToSigned(pixels);
        long n = images.shape[0];
        var rows = new List<Img2ImgRow>();
        int done = 0, total = strengths.Sum(s => steps - Img2Img.StartStep(steps, s)) * (int)((n + model.FittingBatchSize - 1) / model.FittingBatchSize);
        foreach (var strength in strengths)
        {
            using var strengthScope = NewDisposeScope();
            using var generator = new Generator((ulong)seed);
            var seeds = SampleSeeds.Draw(generator); // per image, so an image's edit does not depend on the batch size
            var parts = new List<Tensor>();
            for (long start = 0; start < n; start += model.FittingBatchSize)
            {
                long size = Math.Min(model.FittingBatchSize, n - start);
                int before = done;
                var batchProgress = progress is null ? null : SyncProgress.Map<StepInfo, (int Done, int Total)>(progress, value => (before + value.Step, total));
                using var generators = seeds.Batch(start, size);
                parts.Add(Img2Img.Run(model.Denoise, scheduler, steps, strength, images.narrow(0, start, size), generators, batchProgress).clamp(-1, 1));
                done += steps - Img2Img.StartStep(steps, strength);
            }
            // Scored as stored: through 8-bit pixels.
            var edited = IO.PixelScale.ToSigned(IO.PixelScale.ToBytes(cat(parts)));
            double distance = (edited - images).square().mean().sqrt().item<float>();
            double agreement = ImageQuality.PredictedClasses(classifier, edited).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
            rows.Add(new Img2ImgRow(strength, steps - Img2Img.StartStep(steps, strength), distance, agreement));
        }
        return rows;
    }
}
