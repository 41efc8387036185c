using System.CommandLine;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>What inpaint, outpaint and img2img share: the model, the input image, the output grid and how many results.</summary>
public sealed class EditOptions
{
    public Option<string?> Model { get; } = Common.Model("an image model folder written by 'diffuse train'");
    public Option<string> Weights { get; } = Common.Weights();
    public ImageOptions Image { get; } = new();
    public Option<string?> Input { get; } = Common.Image("the input image (PNG, JPEG, ...), gray for 1-channel models, color for 3-channel ones");
    public Option<string?> Out { get; } = Common.Out("the result; with --n > 1 a grid of n results", helpName: "FILE.png");
    public Option<int> Count { get; } = Common.Count("results drawn from the same input", 1, 1, 10_000);
    public Option<long> Seed { get; } = Common.Seed();
    public Option<bool> Force { get; } = Common.Force();

    public void AddTo(Command command, bool batchSize = false)
    {
        command.AddOptions(Model, Input, Out, Count, Seed, Weights, Force);
        Image.AddTo(command, batchSize);
        command.Check(r => Common.CheckOutFile(r.GetValue(Out)!, [".png"], r.GetValue(Force)));
    }

    /// <summary>The model of --model, refused when it upscales rather than edits.</summary>
    public ImageModel LoadModel(ParseResult result)
    {
        var model = Image.Load(result, result.GetValue(Model)!, result.GetValue(Weights) == "ema");
        if (model.Config.SuperRes is null) return model;
        model.Dispose();
        throw new UsageException($"'{model.Directory}' is a super-resolution model; it edits nothing but upscales: use 'diffuse upscale'");
    }

    /// <summary>The input image as model-space [1, C, H, W], checked against the model's channels (and size unless told otherwise).</summary>
    public torch.Tensor ReadImage(ParseResult result, ImageModel model, bool requireModelSize = true)
    {
        string path = result.GetValue(Input)!;
        using var pixels = ImageFile.Read(path);
        var spec = model.Image;
        if (pixels.shape[0] != spec.Channels)
            throw new UsageException(spec.Channels == 1
                ? $"the image '{path}' has color but the model takes 1-channel (grayscale) images"
                : $"the image '{path}' is grayscale but the model takes {spec.Channels}-channel (color) images");
        if (requireModelSize && (pixels.shape[1] != spec.Height || pixels.shape[2] != spec.Width))
            throw new UsageException($"the image '{path}' is {pixels.shape[2]}x{pixels.shape[1]} but the model takes {spec.Width}x{spec.Height} images");
        using var signed = PixelScale.ToSigned(pixels);
        return signed.unsqueeze(0);
    }

    /// <summary>Writes one result as a plain PNG, several as a grid, and says so.</summary>
    public static void Write(ParseResult result, string outFile, torch.Tensor results, string what)
    {
        if (results.shape[0] == 1) ImageGrid.WritePng(outFile, results, columns: 1, padding: 0);
        else ImageGrid.WritePng(outFile, results);
        result.Output().WriteLine($"wrote {what} to {outFile}");
    }
}
