using System.CommandLine;
using Diffuse.Editing;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse outpaint</c>: the image on a padded canvas of the model's size, the border painted by RePaint.</summary>
public sealed class OutpaintCommand : DiffuseCommand
{
    readonly EditOptions edit = new();
    readonly RePaintStepOptions repaint = new();
    readonly Option<(long Left, long Right, long Top, long Bottom)?> pad = Opt.Parsed<(long, long, long, long)?>("--pad",
        "comma-separated side=pixels: left, right, top, bottom, all (default: centre the image on the model's canvas)", ParsePads, helpName: "SIDES");

    public OutpaintCommand() : base("outpaint", """
        extend an image beyond its borders to the model's size (RePaint on the padded canvas)

        diffuse outpaint --model runs/mnist --image crop.png --pad left=8,right=4 --out wide.png [--n 8]

        The input is placed on a canvas padded by the given pixels on each side (left, right, top, bottom; or --pad all=4),
        which must come to the model's image size; the model paints the new border as RePaint inpainting does, and the
        input's pixels are kept exactly.
        """)
    {
        edit.AddTo(this);
        Options.Add(pad);
        repaint.AddTo(this);
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string outFile = result.GetValue(edit.Out)!;
        int n = result.GetValue(edit.Count);
        using var model = edit.LoadModel(result);
        var options = repaint.Read(result, model.Config.Scheduler.NumTrainTimesteps);
        using var image = edit.ReadImage(result, model, requireModelSize: false);
        var spec = model.Image;
        long h = image.shape[2], w = image.shape[3];
        var (left, right, top, bottom) = result.GetValue(pad) ?? Centred(spec.Width - w, spec.Height - h);
        if (w + left + right != spec.Width || h + top + bottom != spec.Height)
            throw new UsageException($"the image is {w}x{h}; padded by left {left}, right {right}, top {top}, bottom {bottom} it is " +
                                     $"{w + left + right}x{h + top + bottom}, but the model takes {spec.Width}x{spec.Height}");
        using var scope = torch.NewDisposeScope();
        var canvas = torch.nn.functional.pad(image, [left, right, top, bottom], value: 0);
        var mask = torch.ones(1, spec.Height, spec.Width);
        mask[.., torch.TensorIndex.Slice(top, top + h), torch.TensorIndex.Slice(left, left + w)] = 0f;
        var painted = RePaintStepOptions.Paint(model, canvas, mask, n, result.GetValue(edit.Seed), options);
        EditOptions.Write(result, outFile, painted, $"{n} outpainting{(n == 1 ? "" : "s")} ({w}x{h} to {spec.Width}x{spec.Height}, {RePaint.Evaluations(options)} NFE)");
        return Cli.Ok;
    }

    /// <summary>The image centred in the free width and height (nothing when it is larger than the canvas).</summary>
    static (long, long, long, long) Centred(long freeWidth, long freeHeight) =>
        freeWidth < 0 || freeHeight < 0 ? (0, 0, 0, 0) : (freeWidth / 2, freeWidth - freeWidth / 2, freeHeight / 2, freeHeight - freeHeight / 2);

    /// <summary>Parses "left=8,right=4" (and all=K).</summary>
    static (long, long, long, long)? ParsePads(string text)
    {
        long left = 0, right = 0, top = 0, bottom = 0;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2 || !long.TryParse(kv[1], out long v) || v < 0)
                throw new UsageException($"--pad takes side=pixels pairs such as left=8,right=4 (pixels at least 0), got '{part}'");
            switch (kv[0])
            {
                case "left": left = v; break;
                case "right": right = v; break;
                case "top": top = v; break;
                case "bottom": bottom = v; break;
                case "all": left = right = top = bottom = v; break;
                default: throw new UsageException($"--pad sides are left, right, top, bottom and all, got '{kv[0]}'");
            }
        }
        return (left, right, top, bottom);
    }
}
