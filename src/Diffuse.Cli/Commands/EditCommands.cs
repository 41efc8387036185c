using Diffuse.Editing;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Cli.Commands;

/// <summary>What inpaint, outpaint and img2img share: the model, the input image and the output grid.</summary>
static class EditInputs
{
    public const string CommonHelp = """
          --model DIR          an image model folder written by 'diffuse train'
          --image FILE         the input image (PNG, JPEG, ...), gray for 1-channel models, color for 3-channel ones
          --out FILE.png       the result; with --n > 1 a grid of n results
          --n N                results drawn from the same input (default 1)
          --seed S             seed of the noise (default 0)
          --precision P        fp32 | bf16, the network's arithmetic (default bf16)
          --weights W          ema | model (default ema)
          --force              overwrite --out if it exists
        """;

    public static readonly string[] ValueNames = ["model", "image", "out", "n", "seed", "precision", "weights"];

    public static ImageModel LoadModel(Args a)
    {
        var model = ImageArgs.Load(a.Require("model"), a);
        if (model.Config.SuperRes is null) return model;
        model.Dispose();
        throw new UsageException($"'{model.Directory}' is a super-resolution model; it edits nothing but upscales: use 'diffuse upscale'");
    }

    public static string OutFile(Args a)
    {
        string outFile = a.Require("out");
        if (!outFile.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out must end in .png, got '{outFile}'");
        if (File.Exists(outFile) && !a.Has("force")) throw new UsageException($"'{outFile}' already exists; pass --force to overwrite it");
        var folder = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"the folder of --out '{outFile}' does not exist; create it first");
        return outFile;
    }

    /// <summary>The input image as model-space [1, C, H, W], checked against the model's channels (and size unless told otherwise).</summary>
    public static torch.Tensor Image(Args a, ImageModel model, bool requireModelSize = true)
    {
        string path = a.Require("image");
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

    public static void Write(string outFile, torch.Tensor results, TextWriter output, string what)
    {
        if (results.shape[0] == 1) ImageGrid.WritePng(outFile, results, columns: 1, padding: 0);
        else ImageGrid.WritePng(outFile, results);
        output.WriteLine($"wrote {what} to {outFile}");
    }

    /// <summary>RePaint with the model's network and schedule, the progress shown.</summary>
    public static torch.Tensor Paint(ImageModel model, torch.Tensor known, torch.Tensor mask, int n, long seed, RePaintOptions options)
    {
        var config = model.Config.Scheduler;
        var schedule = NoiseSchedule.FromConfig(config);
        using var batch = known.expand(n, -1, -1, -1).contiguous();
        using var generator = new torch.Generator((ulong)seed);
        var total = RePaint.Schedule(options.Steps, options.JumpLength, options.Resample).Count - 1;
        return ProgressDisplay.Run("repaint", total, report =>
            RePaint.Run(model.Denoise, schedule, config.PredictionType, batch, mask.unsqueeze(0), generator, options, new SyncProgress<(int Done, int Total)>(p => report(p.Done, ""))));
    }

    public static RePaintOptions RePaintOptions(Args a, ImageModel model)
    {
        var options = new RePaintOptions
        {
            Steps = a.Int("steps", 250, 1), JumpLength = a.Int("jump-length", 10, 1), Resample = a.Int("resample", 10, 1),
        };
        try
        {
            options.Validate(model.Config.Scheduler.NumTrainTimesteps);
        }
        catch (DiffuseException e)
        {
            throw new UsageException(e.Message);
        }
        return options;
    }

    public const string RePaintHelp = """
          --steps S            reverse steps on a respaced grid of the training timesteps (default 250)
          --jump-length J      RePaint's jump: after J steps down, J back up (default 10)
          --resample R         how often each jump point is revisited (default 10; 1 = plain known-region replacement)
        """;
}

public sealed class InpaintCommand : ICommand
{
    public string Name => "inpaint";
    public string Summary => "fill the white region of a mask in an image (RePaint); the other pixels are kept exactly";
    public string Help => $"""
        diffuse inpaint --model runs/mnist --image digit.png --mask mask.png --out filled.png [--n 8]

        RePaint (Lugmayr et al. 2022): at every reverse step the known pixels (black in the mask) are replaced by the
        input noised to that step, and the model fills the rest (white in the mask); resampling jumps let the two agree.
        The mask must be black and white, the size of the image; the image the model's size.

          --mask FILE          black (keep) and white (regenerate) image of the input's size
        {EditInputs.CommonHelp}
        {EditInputs.RePaintHelp}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, [.. EditInputs.ValueNames, "mask", "steps", "jump-length", "resample"], ["force"]);
        string outFile = EditInputs.OutFile(a);
        int n = a.Int("n", 1, 1, 10_000);
        using var model = EditInputs.LoadModel(a);
        var options = EditInputs.RePaintOptions(a, model);
        using var image = EditInputs.Image(a, model);
        using var mask = ImageFile.ReadMask(a.Require("mask"));
        if (mask.shape[1] != image.shape[2] || mask.shape[2] != image.shape[3])
            throw new UsageException($"the mask is {mask.shape[2]}x{mask.shape[1]} but the image is {image.shape[3]}x{image.shape[2]}; they must be the same size");
        using var filled = EditInputs.Paint(model, image, mask, n, a.Long("seed", 0), options);
        EditInputs.Write(outFile, filled, output, $"{n} inpainting{(n == 1 ? "" : "s")} ({options.Steps} steps, jump {options.JumpLength}, resample {options.Resample}, {RePaint.Evaluations(options)} NFE)");
        return Cli.Ok;
    }
}

public sealed class OutpaintCommand : ICommand
{
    public string Name => "outpaint";
    public string Summary => "extend an image beyond its borders to the model's size (RePaint on the padded canvas)";
    public string Help => $"""
        diffuse outpaint --model runs/mnist --image crop.png --pad left=8,right=4 --out wide.png [--n 8]

        The input is placed on a canvas padded by the given pixels on each side (left, right, top, bottom; or
        --pad all=4), which must come to the model's image size; the model paints the new border as RePaint
        inpainting does, and the input's pixels are kept exactly.

          --pad SIDES          comma-separated side=pixels: left, right, top, bottom, all (default: centre the
                               image on the model's canvas)
        {EditInputs.CommonHelp}
        {EditInputs.RePaintHelp}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, [.. EditInputs.ValueNames, "pad", "steps", "jump-length", "resample"], ["force"]);
        string outFile = EditInputs.OutFile(a);
        int n = a.Int("n", 1, 1, 10_000);
        using var model = EditInputs.LoadModel(a);
        var options = EditInputs.RePaintOptions(a, model);
        using var image = EditInputs.Image(a, model, requireModelSize: false);
        var spec = model.Image;
        long h = image.shape[2], w = image.shape[3];
        var (left, right, top, bottom) = Pads(a.Get("pad"), spec.Width - w, spec.Height - h);
        if (w + left + right != spec.Width || h + top + bottom != spec.Height)
            throw new UsageException($"the image is {w}x{h}; padded by left {left}, right {right}, top {top}, bottom {bottom} it is " +
                                     $"{w + left + right}x{h + top + bottom}, but the model takes {spec.Width}x{spec.Height}");
        using var scope = torch.NewDisposeScope();
        var canvas = torch.nn.functional.pad(image, [left, right, top, bottom], value: 0);
        var mask = torch.ones(1, spec.Height, spec.Width);
        mask[.., torch.TensorIndex.Slice(top, top + h), torch.TensorIndex.Slice(left, left + w)] = 0f;
        var result = EditInputs.Paint(model, canvas, mask, n, a.Long("seed", 0), options);
        EditInputs.Write(outFile, result, output, $"{n} outpainting{(n == 1 ? "" : "s")} ({w}x{h} to {spec.Width}x{spec.Height}, {RePaint.Evaluations(options)} NFE)");
        return Cli.Ok;
    }

    /// <summary>Parses "left=8,right=4" (and all=K); with no --pad, centres the image in the free width and height.</summary>
    internal static (long Left, long Right, long Top, long Bottom) Pads(string? text, long freeWidth, long freeHeight)
    {
        if (text is null)
        {
            if (freeWidth < 0 || freeHeight < 0) return (0, 0, 0, 0);
            return (freeWidth / 2, freeWidth - freeWidth / 2, freeHeight / 2, freeHeight - freeHeight / 2);
        }
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

public sealed class Img2ImgCommand : ICommand
{
    public string Name => "img2img";
    public string Summary => "re-imagine an image (SDEdit): noise it to --strength and denoise with any sampler";
    public string Help => $"""
        diffuse img2img --model runs/mnist --image sketch.png --strength 0.6 --out out.png [--sampler ddim --steps 50]

        SDEdit (Meng et al. 2022): the input is noised to the level of strength s in (0, 1] and denoised from there;
        small s keeps the input, s = 1 ignores it. Of an N-step run the last floor(N s) steps are taken, as diffusers.

          --strength S         in (0, 1] (default 0.6)
          --sampler NAME       a scheduler from 'diffuse samplers' (default ddim)
          --steps N            steps of the whole run (default 50)
        {EditInputs.CommonHelp}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, [.. EditInputs.ValueNames, "strength", "sampler", "steps"], ["force"]);
        string outFile = EditInputs.OutFile(a);
        int n = a.Int("n", 1, 1, 10_000);
        double strength = a.Double("strength", 0.6);
        if (!(strength > 0 && strength <= 1)) throw new UsageException($"--strength must lie in (0, 1], got {strength}");
        string sampler = a.Get("sampler") ?? "ddim";
        if (!Sampling.Schedulers.Names.Contains(sampler) || Sampling.Schedulers.Inverts(sampler))
            throw new UsageException($"img2img takes a scheduler: one of {string.Join(", ", Sampling.Schedulers.Names.Where(s => !Sampling.Schedulers.Inverts(s)))}; got '{sampler}'");
        using var model = EditInputs.LoadModel(a);
        int steps = a.Int("steps", 50, 1, model.Config.Scheduler.NumTrainTimesteps);
        using var image = EditInputs.Image(a, model);
        var scheduler = model.CreateScheduler(sampler);
        using var generator = new torch.Generator((ulong)a.Long("seed", 0));
        using var batch = image.expand(n, -1, -1, -1).contiguous();
        int start = Img2Img.StartStep(steps, strength);
        using var edited = ProgressDisplay.Run("img2img", Math.Max(1, steps - start), report =>
            Img2Img.Run(model.Denoise, scheduler, steps, strength, batch, generator, new SyncProgress<StepInfo>(s => report(s.Step, $"t={s.Timestep:0.##}"))));
        using var clamped = edited.clamp(-1, 1);
        EditInputs.Write(outFile, clamped, output, $"{n} edit{(n == 1 ? "" : "s")} (strength {strength}, {sampler}, {steps - start} of {steps} steps)");
        return Cli.Ok;
    }
}
