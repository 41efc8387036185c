using System.CommandLine;
using Diffuse.Likelihood;
using Diffuse.Ode;
using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary>The options of <c>eval nll</c>: which estimates, on how many held-out images (or fresh points), and the ODE solver's settings.</summary>
public sealed class NllOptions
{
    public const int DefaultImages = 100, DefaultPoints = 1000;

    public Option<int> Images { get; } = Opt.Int("--nll-images", "images: held-out images to score", DefaultImages, 1, 1_000_000);
    public Option<int> Points { get; } = Opt.Int("--nll-points", "points: fresh data points to score", DefaultPoints, 1, 10_000_000);
    public Option<bool> ElboOnly { get; } = Opt.Flag("--elbo-only", "only the ELBO");
    public Option<bool> OdeOnly { get; } = Opt.Flag("--ode-only", "only the ODE (the only estimate of a continuous-time SDE model)");
    public Option<double> Rtol { get; } = Common.Rtol();
    public Option<double> Atol { get; } = Common.Atol();
    public Option<TraceEstimator?> Estimator { get; } = Opt.Parsed<TraceEstimator?>("--estimator",
        "the ODE's divergence: Hutchinson's estimate with rademacher or gaussian probes, or the exact trace (default rademacher for images, exact for points)",
        name => name switch
        {
            "rademacher" => TraceEstimator.Rademacher,
            "gaussian" => TraceEstimator.Gaussian,
            "exact" => TraceEstimator.Exact,
            _ => throw new UsageException($"--estimator must be 'rademacher', 'gaussian' or 'exact', got '{name}'"),
        }, helpName: "rademacher|gaussian|exact");
    public Option<int> Probes { get; } = Opt.Int("--probes", "Hutchinson probes per image", new ProbabilityFlowOptions().Probes, 1, 1000);
    public Option<int?> BatchSize { get; } = Opt.OptionalInt("--batch-size", $"images (points) scored together (default {ImageModel.DefaultBatchSize}; points {DefaultPoints})", 1, 100_000);
    public Option<long> Seed { get; } = Common.Seed("seed of the estimates' noise (and of the fresh points)");
    public Option<string> Weights { get; } = Common.Weights();

    public void AddTo(DiffuseCommand command)
    {
        command.AddOptions(Images, Points, ElboOnly, OdeOnly, Rtol, Atol, Estimator, Probes, BatchSize, Seed, Weights);
        command.Check(r => { if (r.Given(ElboOnly) && r.Given(OdeOnly)) throw new UsageException("--elbo-only and --ode-only exclude each other"); });
    }

    /// <param name="points">Scoring 2-D points: --nll-points instead of --nll-images, and the exact trace by default.</param>
    public NllSettings Read(ParseResult result, bool points)
    {
        var r = result.CommandResult;
        if (points && r.Given(Images)) throw new UsageException("--nll-images applies to image models; give --nll-points for points");
        if (!points && r.Given(Points)) throw new UsageException("--nll-points applies to models of 2-D points; give --nll-images for images");
        var flow = new ProbabilityFlowOptions
        {
            Tolerances = new OdeTolerances(r.GetValue(Rtol), r.GetValue(Atol)),
            Trace = r.GetValue(Estimator) ?? (points ? TraceEstimator.Exact : TraceEstimator.Rademacher),
            Probes = r.GetValue(Probes),
        };
        return new NllSettings(r.GetValue(points ? Points : Images), !r.GetValue(OdeOnly), !r.GetValue(ElboOnly), flow,
            r.GetValue(BatchSize) ?? (points ? DefaultPoints : ImageModel.DefaultBatchSize), r.GetValue(Seed), r.GetValue(Weights) == "ema");
    }
}
