using Diffuse.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// The three numbers of <c>diffuse eval</c> for 2-D data, each the SWD to the same fresh data draw
/// along the same directions: the model's samples, an independent data draw of the same size (the
/// noise floor: what a perfect model scores) and a Gaussian fitted to the data (a baseline).
/// </summary>
public sealed record SwdScores(double Samples, double DataFloor, double GaussianBaseline)
{
    public static SwdScores Measure(Tensor samples, string dataName, int projections, long seed)
    {
        long n = samples.shape[0];
        // Offsets keep these draws apart from the training data (seeded by the training seed) and the sampling noise.
        using var g = new Generator((ulong)(seed + 1_000_003));
        using var reference = Toy2D.Sample(dataName, n, g);
        using var second = Toy2D.Sample(dataName, n, g);
        using var fitSet = Toy2D.Sample(dataName, n, g);
        using var gaussian = SlicedWasserstein.FittedGaussianSample(fitSet, n, g);
        double Score(Tensor x)
        {
            using var directions = new Generator((ulong)(seed + 2_000_003));
            return SlicedWasserstein.Distance(x, reference, projections, directions);
        }
        return new SwdScores(Score(samples), Score(second), Score(gaussian));
    }
}
