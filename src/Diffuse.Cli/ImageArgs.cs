using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary>The options of image sampling shared by <c>sample</c>, <c>eval</c> and <c>demo</c>.</summary>
public static class ImageArgs
{
    public const string DefaultPrecision = "bf16";

    public static string Precision(Args a)
    {
        string precision = a.Get("precision") ?? DefaultPrecision;
        if (precision is not ("fp32" or "bf16")) throw new UsageException($"--precision must be 'fp32' or 'bf16', got '{precision}'");
        return precision;
    }

    /// <summary>Loads an image model with the --weights, --precision and --batch-size of <paramref name="a"/> (the editing commands).</summary>
    public static ImageModel Load(string dir, Args a)
    {
        string weights = a.Get("weights") ?? "ema";
        if (weights is not ("ema" or "model")) throw new UsageException($"--weights must be 'ema' or 'model', got '{weights}'");
        var precision = Precision(a);
        int batchSize = a.Int("batch-size", ImageModel.DefaultBatchSize, 1, 100_000);
        var model = ImageModel.Load(dir, weights == "ema");
        model.BatchSize = batchSize;
        if (precision == "bf16") model.UseBFloat16();
        return model;
    }

    /// <summary>Loads an image model with the requested weights, precision and batch size.</summary>
    public static ImageModel Load(string dir, SamplerSettings options, string precision, Args a)
    {
        int batchSize = a.Int("batch-size", ImageModel.DefaultBatchSize, 1, 100_000);
        var model = ImageModel.Load(dir, options.UseEma);
        model.BatchSize = batchSize;
        if (precision == "bf16") model.UseBFloat16();
        return model;
    }
}
