using System.CommandLine;
using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Likelihood;
using Diffuse.Pipelines;
using Diffuse.Training;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse eval nll</c>: bits/dim of held-out images (nats/dim of fresh points) by the ELBO and the probability-flow ODE.</summary>
public sealed class NllCommand : DiffuseCommand
{
    /// <summary>The probability-flow ODE's progress ticks per batch (its time runs from 0 to 1).</summary>
    const int OdeTicks = 1000;

    readonly Option<string?> modelDir = Common.Model();
    readonly Option<string?> cacheDir = Common.CacheDir("images: where the dataset is cached (default ~/.cache/diffuse)");
    readonly Option<string?> dataDir = Common.DataDir();
    readonly NllOptions nll = new();

    public NllCommand() : base("nll", """
        likelihoods: bits/dim of held-out images (the run's validation split) by the variational bound (ELBO over every timestep, with its parts) and by the probability-flow ODE (uniform dequantization, Hutchinson's trace), each with one standard error; fp32 only. For 2-D points: nats/dim of fresh data points (and the closed-form value for 8gaussians)

        diffuse eval nll --model runs/mnist [--nll-images 100] [--ode-only --rtol 1e-5 --atol 1e-5 --estimator rademacher --probes 1]
        diffuse eval nll --model runs/8g [--nll-points 1000]
        """)
    {
        this.AddOptions(modelDir, cacheDir, dataDir);
        nll.AddTo(this);
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string dir = result.GetValue(modelDir)!;
        var config = Common.ReadConfig(dir);
        if (config.Sde is { } sde && !result.GetValue(nll.OdeOnly))
            throw new UsageException($"the ELBO needs a discrete-time model; '{dir}' is a continuous-time {sde.DisplayName} SDE model: pass --ode-only");
        if (!config.IsImage)
        {
            if (result.CommandResult.FirstGiven(cacheDir, dataDir) is { } imageOnly) throw new UsageException($"{imageOnly} applies to image models only");
            return Points(result, dir, config, nll.Read(result, points: true));
        }
        var options = nll.Read(result, points: false);
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        using var model = ImageModel.Load(dir, options.UseEma);
        using var heldOut = ImageTraining.HeldOut(config, load, Console.Error.WriteLine);
        int count = (int)Math.Min(options.Images, heldOut.Count);
        if (count < options.Images) Console.Error.WriteLine($"note: the run held out {heldOut.Count} images; scoring all of them");
        using var subset = heldOut.RandomSubset(count, HeldOutImages.SubsetSeed);
        Func<torch.Tensor, torch.Tensor, torch.Tensor> network = (x, t) => model.Network.forward(x, t);
        var scheduler = config.Scheduler;
        int batches = (count + options.BatchSize - 1) / options.BatchSize;
        ElboEstimate? elbo = null;
        OdeEstimate? ode = null;
        if (options.Elbo)
        {
            using var images = PixelScale.ToSigned(subset.Pixels);
            using var generator = new torch.Generator((ulong)options.Seed);
            elbo = ProgressDisplay.Run("ELBO", batches * scheduler.NumTrainTimesteps, report =>
                ModelLikelihood.Elbo(network, scheduler, images, DataDecoder.Discretized8Bit, options.BatchSize, generator, new SyncProgress<int>(done => report(done, "terms"))));
        }
        if (options.Ode)
        {
            using var generator = new torch.Generator((ulong)options.Seed + 1);
            var view = ScoreModel.For(config, network, config.Sde?.DiscreteSteps ?? scheduler.NumTrainTimesteps);
            ode = ProgressDisplay.Run("ODE", batches * OdeTicks, report =>
                ModelLikelihood.ImageOde(view.Sde, view.Score, subset.Pixels, options.Flow, options.BatchSize, generator, OdeProgress(report)));
        }
        Outputs.PrintNll(result.Output(), config, count, options, elbo, ode);
        return Cli.Ok;
    }

    static SyncProgress<OdeProgress> OdeProgress(Action<int, string> report) =>
        new(p => report(p.Batch * OdeTicks + (int)(p.Time * OdeTicks), $"t={p.Time:F3} NFE {p.FunctionEvaluations}"));

    /// <summary>
    /// Nats per dimension of fresh data points in data coordinates: the model scores (x - mean) / scale, so each dimension adds
    /// log scale (the change of variables).
    /// </summary>
    static int Points(ParseResult result, string dir, ModelConfig config, NllSettings options)
    {
        using var model = PointModel.Load(dir, options.UseEma);
        var data = config.Data;
        using var scope = torch.NewDisposeScope();
        torch.Tensor points;
        using (var g = new torch.Generator((ulong)options.Seed + 2)) points = Toy2D.Sample(data.Name, options.Images, g);
        var x = (points - torch.tensor(data.Mean)) / data.Scale;
        double logScale = Math.Log(data.Scale);
        Func<torch.Tensor, torch.Tensor, torch.Tensor> network = (xt, t) => model.Network.forward(xt, t);
        var scheduler = config.Scheduler;
        int batches = (options.Images + options.BatchSize - 1) / options.BatchSize;
        MeanWithError? elbo = null, truth = null;
        OdeEstimate? ode = null;
        if (options.Elbo)
        {
            using var generator = new torch.Generator((ulong)options.Seed);
            var bound = ProgressDisplay.Run("ELBO", batches * scheduler.NumTrainTimesteps, report =>
                ModelLikelihood.Elbo(network, scheduler, x, DataDecoder.ContinuousGaussian, options.BatchSize, generator, new SyncProgress<int>(done => report(done, "terms"))));
            // The bound is in bits/dim of the model's coordinates.
            elbo = new MeanWithError(bound.Total.Mean * Math.Log(2) + logScale, bound.Total.StandardError * Math.Log(2));
        }
        if (options.Ode)
        {
            using var generator = new torch.Generator((ulong)options.Seed + 1);
            var view = ScoreModel.For(config, network, config.Sde?.DiscreteSteps ?? scheduler.NumTrainTimesteps);
            ode = ProgressDisplay.Run("ODE", batches * OdeTicks, report =>
                ModelLikelihood.ContinuousOde(view.Sde, view.Score, x, options.Flow, options.BatchSize, generator, logScale, OdeProgress(report)));
        }
        using (var density = Toy2DDensity.Of(data.Name))
            if (density is not null)
                truth = MeanWithError.Of(-density.LogDensity(points.to_type(torch.ScalarType.Float64)) / points.shape[1]);
        Outputs.PrintPointNll(result.Output(), config, options, elbo, ode, truth);
        return Cli.Ok;
    }
}
