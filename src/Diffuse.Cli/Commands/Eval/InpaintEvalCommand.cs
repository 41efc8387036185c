using System.CommandLine;
using Diffuse.Data;
using Diffuse.Editing;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse eval inpaint</c>: RePaint on held-out images with a region cut out, scored by label agreement.</summary>
public sealed class InpaintEvalCommand : DiffuseCommand
{
    readonly Option<string?> modelDir = Common.Model("an image model folder written by 'diffuse train'");
    readonly Option<string> weights = Common.Weights();
    readonly Option<MaskRegion> region = Opt.Parsed("--region", "the part of each image cut out and inpainted", ParseRegion, () => MaskRegion.Lower,
        "lower|upper|left|right|center");
    readonly Option<int> count = Common.Count("held-out images to inpaint", 1000);
    readonly Option<long> seed = Common.Seed();
    readonly Option<string?> cacheDir = Common.CacheDir();
    readonly Option<string?> dataDir = Common.DataDir();
    readonly ImageOptions image = new("images inpainted together");
    readonly RePaintStepOptions repaint = new();

    public InpaintEvalCommand() : base("inpaint", """
        inpainting measured: cut a region out of N held-out images, complete them with RePaint (as 'diffuse inpaint'), and report how often the quality classifier still gives the original label, beside filling the hole with the data's mean image; the known pixels are checked to be unchanged

        diffuse eval inpaint --model runs/mnist --region lower [--n 1000] [--steps 50 --jump-length 5 --resample 5]
        """)
    {
        this.AddOptions(modelDir, region, count, seed, weights, cacheDir, dataDir);
        image.AddTo(this);
        repaint.AddTo(this);
        SetAction(Run);
    }

    static MaskRegion ParseRegion(string name)
    {
        try
        {
            return MaskRegions.Parse(name);
        }
        catch (DiffuseException e)
        {
            throw new UsageException(ConfigKeyFlags.Message(e));
        }
    }

    int Run(ParseResult result)
    {
        string dir = result.GetValue(modelDir)!;
        var config = HeldOutImages.ReadConfig(dir, "inpaint");
        var cut = result.GetValue(region);
        var options = repaint.Read(result, config.Scheduler.NumTrainTimesteps);
        long noiseSeed = result.GetValue(seed);
        using var model = image.Load(result, dir, result.GetValue(weights) == "ema");
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        using var held = HeldOutImages.Load(config, model, load, result.GetValue(count), "inpainting");
        using var scope = torch.NewDisposeScope();
        var meanImage = held.Data.ToImages().mean([0]);
        int images = (int)held.Subset.Count;
        int perBatch = RePaint.Schedule(options.Steps, options.JumpLength, options.Resample).Count - 1;
        int total = (int)Math.Min(int.MaxValue, (long)perBatch * ((images + model.FittingBatchSize - 1) / model.FittingBatchSize));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = ProgressDisplay.Run("inpaint", total, r =>
            InpaintingEvaluation.Run(model, held.Classifier, held.Subset.Pixels, held.Subset.Labels, meanImage, cut, options, noiseSeed,
                new SyncProgress<(int Done, int Total)>(p => r(p.Done, ""))));
        var output = result.Output();
        output.WriteLine($"inpainting the {cut.ToString().ToLowerInvariant()} {(cut == MaskRegion.Center ? "square" : "half")} of {report.Images} held-out images of {config.Data.Name} " +
                         $"(RePaint {options.Steps} steps, jump {options.JumpLength}, resample {options.Resample}: {report.Evaluations} NFE an image; " +
                         $"{result.GetValue(image.Precision)}, seed {noiseSeed}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine($"  label agreement      {report.Agreement,8:P2}   (the classifier gives the completion the original's label)");
        output.WriteLine($"  mean-image fill      {report.MeanFillAgreement,8:P2}   (baseline: the hole filled with the data's mean image)");
        output.WriteLine($"  uncut originals      {report.OriginalAccuracy,8:P2}   (the classifier's accuracy on the same images whole)");
        output.WriteLine($"  known pixels         {(report.KnownPixelsIdentical ? "identical to the input" : "CHANGED")}");
        return report.KnownPixelsIdentical ? Cli.Ok : Cli.Failure;
    }
}
