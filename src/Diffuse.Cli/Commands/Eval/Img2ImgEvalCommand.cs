using System.CommandLine;
using System.Globalization;
using Diffuse.Data;
using Diffuse.Editing;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse eval img2img</c>: SDEdit of held-out images at several strengths, scored by distance and label agreement.</summary>
public sealed class Img2ImgEvalCommand : DiffuseCommand
{
    readonly Option<string?> modelDir = Common.Model("an image model folder written by 'diffuse train'");
    readonly Option<string> weights = Common.Weights();
    readonly Option<double[]> strengths = Opt.Parsed("--strengths", "strengths in (0, 1], separated by commas", ParseStrengths, () => [0.2, 0.4, 0.6, 0.8, 1.0], "S1,S2,...");
    readonly Option<int> count = Common.Count("held-out images to edit", 1000);
    readonly Option<long> seed = Common.Seed();
    readonly Option<string?> cacheDir = Common.CacheDir();
    readonly Option<string?> dataDir = Common.DataDir();
    readonly ImageOptions image = new("images edited together");
    readonly SamplerOptions sampler = new(schedulersOnly: "img2img");

    public Img2ImgEvalCommand() : base("img2img", """
        img2img measured: edit N held-out images at each strength (SDEdit, --sampler and --steps of the whole run, default ddim 50) and report the RMS distance to the input and how often the quality classifier keeps the input's label

        diffuse eval img2img --model runs/mnist [--strengths 0.2,0.4,0.6,0.8,1] [--n 1000] [--sampler ddim --steps 50]
        """)
    {
        this.AddOptions(modelDir, strengths, count, seed, weights, cacheDir, dataDir);
        image.AddTo(this);
        sampler.AddTo(this);
        SetAction(Run);
    }

    static double[] ParseStrengths(string text)
    {
        var list = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0 && s <= 1))
                throw new UsageException($"--strengths takes strengths in (0, 1] separated by commas, got '{part}'");
            list.Add(s);
        }
        return list.Count > 0 ? [.. list] : throw new UsageException("--strengths needs at least one strength");
    }

    int Run(ParseResult result)
    {
        string dir = result.GetValue(modelDir)!;
        var config = HeldOutImages.ReadConfig(dir, "img2img");
        var levels = result.GetValue(strengths)!;
        var options = sampler.Read(result, SamplerSettings.DefaultEditingSampler, result.GetValue(seed), result.GetValue(weights) == "ema");
        using var model = image.Load(result, dir, options.UseEma);
        int steps = options.CheckedSteps(model);
        var scheduler = options.CreateScheduler(model);
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        using var held = HeldOutImages.Load(config, model, load, result.GetValue(count), "editing");
        int images = (int)held.Subset.Count;
        int total = levels.Sum(s => steps - Img2Img.StartStep(steps, s)) * ((images + model.FittingBatchSize - 1) / model.FittingBatchSize);
        var rows = ProgressDisplay.Run("img2img", Math.Max(1, total), r => Img2ImgEvaluation.Run(model, held.Classifier, held.Subset.Pixels, held.Subset.Labels,
            scheduler, steps, levels, options.Seed, new SyncProgress<(int Done, int Total)>(p => r(p.Done, ""))));
        var output = result.Output();
        output.WriteLine($"img2img (SDEdit) of {images} held-out images of {config.Data.Name} ({options.Sampler}, {steps}-step runs, {result.GetValue(image.Precision)}, seed {options.Seed})");
        output.WriteLine("  strength  steps  RMS distance to input  label agreement");
        foreach (var row in rows)
            output.WriteLine($"  {row.Strength,8:0.###}  {row.Steps,5}  {row.Distance,21:F4}  {row.Agreement,15:P2}");
        return Cli.Ok;
    }
}
