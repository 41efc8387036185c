using Diffuse.Configuration;
using System.Globalization;
using System.Text;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Likelihood;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>What the commands write and print, shared so that <c>demo</c> shows what <c>sample</c> and <c>eval</c> show.</summary>
public static class Outputs
{
    /// <summary>Prints the three labelled SWD lines of <c>eval</c>.</summary>
    public static void PrintScores(TextWriter output, SwdScores scores, string samplerLabel, long n)
    {
        output.WriteLine($"samples            SWD {scores.Samples:F4}  ({samplerLabel}, {n} points)");
        output.WriteLine($"data floor         SWD {scores.DataFloor:F4}");
        output.WriteLine($"gaussian baseline  SWD {scores.GaussianBaseline:F4}");
        output.WriteLine($"samples / gaussian baseline = {scores.Samples / scores.GaussianBaseline:P1}");
    }

    /// <summary>Prints the quality report of an image model, each number named.</summary>
    /// <param name="labelsNote">How the requested labels were chosen (default: cycling through the classes).</param>
    public static void PrintImageScores(TextWriter output, ImageEvalReport r, string samplerLabel, string labelsNote = "labels cycle through the classes")
    {
        var s = r.Samples;
        output.WriteLine($"FCD = Fréchet Classifier Distance in the features of a CNN trained on {r.Dataset} (not Inception FID; lower is better)");
        output.WriteLine($"  samples vs real      FCD {s.Fcd,9:F3}   ({s.Count} samples, {samplerLabel}, vs {s.Count} real images)");
        output.WriteLine($"  real vs real floor   FCD {r.Floor.Fcd,9:F3}   ({r.Floor.Count} vs {r.Floor.Count} disjoint real images)");
        if (r.SamplesAtFloorCount is { } atFloor)
            output.WriteLine($"  samples vs real      FCD {atFloor.Fcd,9:F3}   (first {atFloor.Count} samples vs {atFloor.Count} real images: compare with the floor)");
        output.WriteLine($"  mean confidence          {s.MeanConfidence,9:F4}   (classifier's top probability on the samples; real images: {r.Floor.MeanConfidence:F4})");
        output.WriteLine($"  class entropy            {s.ClassEntropy,9:F4}   nats (max ln {s.ClassCounts.Length} = {Math.Log(s.ClassCounts.Length):F4}; real images: {r.Floor.ClassEntropy:F4})");
        output.WriteLine($"  class histogram          {string.Join(" ", s.ClassCounts)}");
        if (r.LabelAccuracy is { } accuracy)
            output.WriteLine($"  label accuracy           {accuracy,9:P2}   (samples the classifier labels as the requested class; {labelsNote})");
        output.WriteLine($"  classifier accuracy      {r.ClassifierAccuracy,9:P2}   (on {r.ClassifierValidationImages} held-out real images{(r.ClassifierFromCache ? "; cached classifier" : "")})");
    }

    /// <summary>The noise process of a model in a few words: a discrete schedule, or a continuous-time SDE.</summary>
    static string ProcessLabel(ModelConfig config)
    {
        var c = config.Scheduler;
        string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        return config.Sde switch
        {
            null => $"{c.NumTrainTimesteps} timesteps, {Json.Name(c.BetaSchedule)} betas, {Json.Name(c.PredictionType)}",
            { Type: SdeType.Ve } s => $"VE SDE, sigma {G(s.SigmaMin)} to {G(s.SigmaMax)}",
            var s => $"{s.DisplayName} SDE, beta {G(s.BetaMin)} to {G(s.BetaMax)}",
        };
    }

    /// <summary>Prints the likelihood lines of <c>eval --nll</c>: a header, then one labelled line per estimate.</summary>
    public static void PrintNll(TextWriter output, ModelConfig config, int images, NllSettings options, ElboEstimate? elbo, OdeEstimate? ode)
    {
        var c = config.Scheduler;
        output.WriteLine($"NLL of {images} held-out images of {config.Data.Name} ({(options.UseEma ? "EMA" : "raw")} weights, {ProcessLabel(config)}, " +
                         $"fp32, seed {options.Seed}; ± one standard error over the images)");
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        if (elbo is not null)
            output.WriteLine($"  ELBO  {F(elbo.Total.Mean)} ± {F(elbo.Total.StandardError)} bits/dim  = prior {F(elbo.Prior.Mean)} + KL sum {F(elbo.Kl.Mean)} + decoder {F(elbo.Decoder.Mean)}" +
                             $"  (discretized 8-bit decoder, {Json.Name(c.VarianceType)}, all {c.NumTrainTimesteps} timesteps)");
        if (ode is not null)
        {
            var flow = options.Flow;
            string trace = flow.Trace == TraceEstimator.Exact ? "exact trace" : $"{Json.Name(flow.Trace)} Hutchinson, {flow.Probes} probe{(flow.Probes == 1 ? "" : "s")}";
            output.WriteLine($"  ODE   {F(ode.Value.Mean)} ± {F(ode.Value.StandardError)} bits/dim  NFE {ode.MeanFunctionEvaluations.ToString("F1", CultureInfo.InvariantCulture)}" +
                             $"  (probability flow, uniform dequantization, {trace}, rtol {flow.Tolerances.Relative.ToString("G", CultureInfo.InvariantCulture)}, " +
                             $"atol {flow.Tolerances.Absolute.ToString("G", CultureInfo.InvariantCulture)}; NFE averaged over {ode.Solves} solve{(ode.Solves == 1 ? "" : "s")})");
        }
    }

    /// <summary>Prints the likelihood lines of <c>eval --nll</c> for 2-D points, in nats per dimension of the data.</summary>
    public static void PrintPointNll(TextWriter output, ModelConfig config, NllSettings options, MeanWithError? elbo, OdeEstimate? ode, MeanWithError? truth)
    {
        var c = config.Scheduler;
        output.WriteLine($"NLL of {options.Images} fresh points of {config.Data.Name} in nats/dim ({(options.UseEma ? "EMA" : "raw")} weights, {ProcessLabel(config)}, " +
                         $"seed {options.Seed}; ± one standard error over the points)");
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        if (elbo is not null)
            output.WriteLine($"  ELBO  {F(elbo.Mean)} ± {F(elbo.StandardError)} nats/dim  (Gaussian decoder, all {c.NumTrainTimesteps} timesteps; an upper bound)");
        if (ode is not null)
        {
            var flow = options.Flow;
            string trace = flow.Trace == TraceEstimator.Exact ? "exact trace" : $"{Json.Name(flow.Trace)} Hutchinson, {flow.Probes} probe{(flow.Probes == 1 ? "" : "s")}";
            output.WriteLine($"  ODE   {F(ode.Value.Mean)} ± {F(ode.Value.StandardError)} nats/dim  NFE {ode.MeanFunctionEvaluations.ToString("F1", CultureInfo.InvariantCulture)}" +
                             $"  (probability flow, {trace}, rtol {flow.Tolerances.Relative.ToString("G", CultureInfo.InvariantCulture)}, atol {flow.Tolerances.Absolute.ToString("G", CultureInfo.InvariantCulture)})");
        }
        if (truth is not null)
            output.WriteLine($"  true  {F(truth.Mean)} ± {F(truth.StandardError)} nats/dim  (the closed-form density of {config.Data.Name} at the same points)");
    }
}
