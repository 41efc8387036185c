using System.CommandLine;
using Diffuse.Editing;
using Diffuse.IO;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse inpaint</c>: RePaint fills the white region of a mask; the other pixels are kept exactly.</summary>
public sealed class InpaintCommand : DiffuseCommand
{
    readonly EditOptions edit = new();
    readonly RePaintStepOptions repaint = new();
    readonly Option<string?> mask = Opt.Text("--mask", "black (keep) and white (regenerate) image of the input's size", true, "FILE");

    public InpaintCommand() : base("inpaint", """
        fill the white region of a mask in an image (RePaint); the other pixels are kept exactly

        diffuse inpaint --model runs/mnist --image digit.png --mask mask.png --out filled.png [--n 8]

        RePaint (Lugmayr et al. 2022): at every reverse step the known pixels (black in the mask) are replaced by the input
        noised to that step, and the model fills the rest (white in the mask); resampling jumps let the two agree. The mask
        must be black and white, the size of the image; the image the model's size.
        """)
    {
        edit.AddTo(this);
        Options.Add(mask);
        repaint.AddTo(this);
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string outFile = result.GetValue(edit.Out)!;
        int n = result.GetValue(edit.Count);
        using var model = edit.LoadModel(result);
        var options = repaint.Read(result, model.Config.Scheduler.NumTrainTimesteps);
        using var image = edit.ReadImage(result, model);
        using var known = ImageFile.ReadMask(result.GetValue(mask)!);
        if (known.shape[1] != image.shape[2] || known.shape[2] != image.shape[3])
            throw new UsageException($"the mask is {known.shape[2]}x{known.shape[1]} but the image is {image.shape[3]}x{image.shape[2]}; they must be the same size");
        using var filled = RePaintStepOptions.Paint(model, image, known, n, result.GetValue(edit.Seed), options);
        EditOptions.Write(result, outFile, filled, $"{n} inpainting{(n == 1 ? "" : "s")} ({options.Steps} steps, jump {options.JumpLength}, resample {options.Resample}, {RePaint.Evaluations(options)} NFE)");
        return Cli.Ok;
    }
}
