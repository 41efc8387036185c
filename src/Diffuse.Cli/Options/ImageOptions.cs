using System.CommandLine;
using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary><c>--precision</c> and <c>--batch-size</c> of the commands that run an image model.</summary>
public sealed class ImageOptions(string batchDescription = "images sampled together")
{
    public Option<string> Precision { get; } = Opt.Choice("--precision", "the network's arithmetic while sampling", "bf16", "fp32", "bf16");
    public Option<int> BatchSize { get; } = Opt.Int("--batch-size", batchDescription, ImageModel.DefaultBatchSize, 1, 100_000);

    /// <param name="batchSize">Whether --batch-size is taken (the editing commands draw one input's results together).</param>
    public void AddTo(Command command, bool batchSize = true)
    {
        command.AddOptions(Precision);
        if (batchSize) command.AddOptions(BatchSize);
    }

    /// <summary>Loads an image model with the requested weights, precision and batch size.</summary>
    public ImageModel Load(ParseResult result, string dir, bool useEma)
    {
        var model = ImageModel.Load(dir, useEma);
        // The editing commands take no --batch-size: the library's default.
        model.BatchSize = result.GetResult(BatchSize) is null ? ImageModel.DefaultBatchSize : result.GetValue(BatchSize);
        if (result.GetValue(Precision) == "bf16") model.UseBFloat16();
        return model;
    }
}
