using System.CommandLine;
using Diffuse.Data;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse eval cascade</c>: the sample scores of a cascade (base model, then super-resolution), as for one model.</summary>
public sealed class CascadeEvalCommand : DiffuseCommand
{
    readonly CascadeOptions cascade = new();
    readonly Option<string> weights = Common.Weights();
    readonly Option<int> count = Common.Count("samples to score", QualityCommand.DefaultSamples, 2);
    readonly Option<long> seed = Common.Seed("seed of the sampling noise (and of the real images drawn)");
    readonly Option<string?> data = TrainingOptions.Data("the labelled dataset to score against (default: the super-resolution model's)");
    readonly Option<string?> grid = QualityScoring.Grid();
    readonly Option<string?> cacheDir = Common.CacheDir();
    readonly Option<string?> dataDir = Common.DataDir();
    readonly ImageOptions image = new();
    readonly SamplerOptions sampler = new(schedulersOnly: "a cascade");
    readonly GuidanceOptions guidance = new(withClass: false);

    public CascadeEvalCommand() : base("cascade", """
        the FCD and the other sample scores of a cascade (Ho et al. 2021): the base model's samples, stored as 8-bit images, upscaled by the super-resolution model; class-conditional bases draw labels cycling through the classes

        diffuse eval cascade --cascade runs/base14,runs/sr28 [--n 10000] [--cond-noise 25]
        """)
    {
        cascade.Models.Required = true;
        cascade.AddTo(this);
        this.AddOptions(count, seed, weights, data, grid, cacheDir, dataDir);
        image.AddTo(this);
        sampler.AddTo(this);
        guidance.AddTo(this);
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        int n = result.GetValue(count);
        var options = sampler.Read(result, SamplerSettings.DefaultEditingSampler, result.GetValue(seed), result.GetValue(weights) == "ema");
        var g = guidance.Read(result);
        using var stages = LoadedCascade.Load(result.GetValue(cascade.Models)!, options, dir => image.Load(result, dir, options.UseEma), result.GetValue(cascade.NoiseLevel));
        var conditioning = g.ForEval(stages.Base, n);
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        var target = stages.SuperResolutionModel;
        var report = QualityScoring.Evaluate(target.Image, result.GetValue(data) ?? target.Config.Data.Name, n, options.Seed, gen => stages.Sample(options, n, gen, conditioning),
            load, result.GetValue(grid), result.Output(), conditioning is null ? null : stages.Base.ClassNames, conditioning?.Labels);
        string label = conditioning is null ? "" : $", guidance {g.Scale:0.###}";
        Outputs.PrintImageScores(result.Output(), report, $"{stages.Label(options)}, {result.GetValue(image.Precision)}{label}");
        return Cli.Ok;
    }
}
