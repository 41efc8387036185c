using Diffuse.Likelihood;
using Diffuse.Ode;

namespace Diffuse.Cli;

/// <summary>The options of <c>eval --nll</c>: which estimates, on how many held-out images, and the ODE solver's settings.</summary>
public sealed record NllSettings(int Images, bool Elbo, bool Ode, ProbabilityFlowOptions Flow, int BatchSize, long Seed, bool UseEma)
{
    public static readonly string[] ValueNames = ["nll-images", "nll-points", "probes", "estimator"];
    public static readonly string[] FlagNames = ["nll", "elbo-only", "ode-only"];

    /// <summary>eval's options that sample, which mean nothing for likelihoods.</summary>
    static readonly string[] SamplingOnly = ["n", "grid", "data", "projections", "sampler", "steps", "eta", "noise", "karras", "snr", "corrector-steps", "step-size"];

    public const int DefaultImages = 100;
    public const int DefaultPoints = 1000;

    public const string HelpText = """
          --nll                likelihoods instead: bits/dim of held-out images (the run's validation split) by the
                               variational bound (ELBO, every timestep) and by the probability-flow ODE; fp32 only;
                               for 2-D points, nats/dim of fresh data points (and the true value for 8gaussians)
          --nll-images N       held-out images to score (default 100)
          --nll-points N       points: fresh data points to score (default 1000)
          --elbo-only          only the ELBO        --ode-only   only the ODE
          --rtol R, --atol A   the ODE solver's tolerances (default 1e-5 each)
          --estimator E        rademacher | gaussian | exact: the ODE's divergence (default rademacher, Hutchinson,
                               for images; exact for points)
          --probes K           Hutchinson probes per image (default 1)
        """;

    /// <summary>Refuses the likelihood options without --nll.</summary>
    public static void RefuseWithoutNll(Args a)
    {
        foreach (var name in ValueNames.Where(n => a.Get(n) is not null).Concat(FlagNames.Where(a.Has)))
            throw new UsageException($"--{name} applies with --nll only");
    }

    /// <param name="points">Scoring 2-D points: --nll-points instead of --nll-images, and the exact trace by default.</param>
    public static NllSettings From(Args a, int defaultBatchSize, bool points = false)
    {
        if (points && a.Get("nll-images") is not null) throw new UsageException("--nll-images applies to image models; give --nll-points for points");
        if (!points && a.Get("nll-points") is not null) throw new UsageException("--nll-points applies to models of 2-D points; give --nll-images for images");
        foreach (var name in SamplingOnly.Where(n => a.Get(n) is not null || a.Has(n)))
            throw new UsageException($"--{name} does not apply with --nll (likelihoods sample nothing)");
        if (a.Get("precision") is "bf16") throw new UsageException("--nll runs in fp32 only: bf16 rounding would ruin likelihoods");
        if (a.Get("precision") is { } precision && precision != "fp32") throw new UsageException($"--precision must be 'fp32' with --nll, got '{precision}'");
        if (a.Has("elbo-only") && a.Has("ode-only")) throw new UsageException("--elbo-only and --ode-only exclude each other");
        string weights = a.Get("weights") ?? "ema";
        if (weights is not ("ema" or "model")) throw new UsageException($"--weights must be 'ema' or 'model', got '{weights}'");
        var estimator = a.Get("estimator") switch
        {
            null => points ? TraceEstimator.Exact : TraceEstimator.Rademacher,
            "rademacher" => TraceEstimator.Rademacher,
            "gaussian" => TraceEstimator.Gaussian,
            "exact" => TraceEstimator.Exact,
            var other => throw new UsageException($"--estimator must be 'rademacher', 'gaussian' or 'exact', got '{other}'"),
        };
        var flow = new ProbabilityFlowOptions
        {
            Tolerances = new OdeTolerances(a.Double("rtol", 1e-5, 0, minExclusive: true), a.Double("atol", 1e-5, 0, minExclusive: true)),
            Trace = estimator,
            Probes = a.Int("probes", 1, 1, 1000),
        };
        int count = points ? a.Int("nll-points", DefaultPoints, 1, 10_000_000) : a.Int("nll-images", DefaultImages, 1, 1_000_000);
        return new NllSettings(count, !a.Has("ode-only"), !a.Has("elbo-only"), flow,
            a.Int("batch-size", defaultBatchSize, 1, 100_000), a.Long("seed", 0), weights == "ema");
    }
}
