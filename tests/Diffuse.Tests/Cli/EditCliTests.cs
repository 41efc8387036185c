using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>inpaint, outpaint and img2img on the tiny trained image model: what they keep, what they change, what they refuse.</summary>
[Collection(ImageCliCollection.Name)]
public class EditCliTests(TrainedImageModel trained)
{
    /// <summary>Writes a w x h PNG whose pixel (x, y) has the gray value (or color) <paramref name="pixel"/> gives.</summary>
    internal static string WritePng(string path, int w, int h, Func<int, int, SKColor> pixel)
    {
        using var bitmap = new SKBitmap(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) bitmap.SetPixel(x, y, pixel(x, y));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    internal static SKColor Gray(int v) => new((byte)v, (byte)v, (byte)v);

    static byte[,] ReadGray(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        var result = new byte[bitmap.Height, bitmap.Width];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++) result[y, x] = bitmap.GetPixel(x, y).Red;
        return result;
    }

    string Digit(string folder) => WritePng(Path.Combine(folder, "in.png"), 28, 28, (x, y) => Gray((x * 9 + y * 5) % 256));

    static CliResult Fails(string fragment, params string[] argv)
    {
        var result = Run(argv);
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(fragment, line);
        return result;
    }

    [Fact]
    public void InpaintingKeepsTheKnownPixelsExactlyAndRepaintsTheRest()
    {
        var folder = trained.NewFolder();
        var image = Digit(folder);
        var mask = WritePng(Path.Combine(folder, "mask.png"), 28, 28, (x, y) => Gray(y >= 14 ? 255 : 0));
        var outFile = Path.Combine(folder, "out.png");
        var result = RunOk("inpaint", "--model", trained.Model, "--image", image, "--mask", mask, "--out", outFile, "--steps", "6", "--jump-length", "2", "--resample", "2");
        Assert.Contains("10 NFE", result.Stdout);
        var input = ReadGray(image);
        var output = ReadGray(outFile);
        Assert.Equal(28, output.GetLength(0));
        int changed = 0;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                if (y < 14) Assert.Equal(input[y, x], output[y, x]);
                else if (input[y, x] != output[y, x]) changed++;
        Assert.True(changed > 100, $"only {changed} of the 392 masked pixels changed");
    }

    [Fact]
    public void OutpaintingPlacesTheImageAndFillsTheBorder()
    {
        var folder = trained.NewFolder();
        var crop = WritePng(Path.Combine(folder, "crop.png"), 20, 24, (x, y) => Gray((x * 13 + y * 7) % 256));
        var outFile = Path.Combine(folder, "out.png");
        RunOk("outpaint", "--model", trained.Model, "--image", crop, "--pad", "left=6,right=2,top=4", "--out", outFile, "--steps", "4", "--resample", "1");
        var input = ReadGray(crop);
        var output = ReadGray(outFile);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 20; x++) Assert.Equal(input[y, x], output[y + 4, x + 6]);
        Fails("but the model takes 28x28", "outpaint", "--model", trained.Model, "--image", crop, "--pad", "left=6", "--steps", "4", "--out", Path.Combine(folder, "bad.png"));
        Fails("--pad sides", "outpaint", "--model", trained.Model, "--image", crop, "--pad", "middle=3", "--steps", "4", "--out", Path.Combine(folder, "bad.png"));
    }

    [Fact]
    public void Img2ImgIsReproducibleAndStaysNearTheInputAtLowStrength()
    {
        var folder = trained.NewFolder();
        var image = Digit(folder);
        string Edit(string name, string strength, string seed)
        {
            var path = Path.Combine(folder, name);
            RunOk("img2img", "--model", trained.Model, "--image", image, "--out", path, "--strength", strength, "--steps", "10", "--seed", seed, "--precision", "fp32");
            return path;
        }
        static double Distance(byte[,] a, byte[,] b)
        {
            double sum = 0;
            for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) sum += Math.Abs(a[y, x] - b[y, x]);
            return sum / 784;
        }
        var input = ReadGray(image);
        var low = ReadGray(Edit("low.png", "0.1", "1"));
        var again = ReadGray(Edit("again.png", "0.1", "1"));
        var full = ReadGray(Edit("full.png", "1", "1"));
        Assert.Equal(low, again);
        Assert.True(Distance(input, low) < Distance(input, full), $"strength 0.1 moved {Distance(input, low):F1} gray levels, strength 1 {Distance(input, full):F1}");
    }

    [Fact]
    public void BadInputIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var image = Digit(folder);
        var outFile = Path.Combine(folder, "out.png");
        var small = WritePng(Path.Combine(folder, "small.png"), 20, 20, (x, y) => Gray(0));
        var grayMask = WritePng(Path.Combine(folder, "gray.png"), 28, 28, (x, y) => Gray(128));
        var color = WritePng(Path.Combine(folder, "color.png"), 28, 28, (x, y) => new SKColor(200, 10, 10));
        var truncated = Path.Combine(folder, "truncated.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(image)[..20]);
        string[] Inpaint(string img, string mask) => ["inpaint", "--model", trained.Model, "--image", img, "--mask", mask, "--out", outFile, "--steps", "2"];
        Fails("the same size", Inpaint(image, small));
        Fails("black (keep) and white", Inpaint(image, grayMask));
        Fails("has color", Inpaint(image, color));
        Fails("has color but the model takes 1-channel", Inpaint(color, small));
        Fails("is 20x20 but the model takes 28x28", Inpaint(small, small));
        Fails("truncated", Inpaint(truncated, small));
        Fails("does not exist", Inpaint(Path.Combine(folder, "none.png"), small));
        Fails("--strength must lie in (0, 1]", "img2img", "--model", trained.Model, "--image", image, "--out", outFile, "--strength", "0");
        Fails("--strength must lie in (0, 1]", "img2img", "--model", trained.Model, "--image", image, "--out", outFile, "--strength", "1.5");
        Fails("--resample", [.. Inpaint(image, small), "--resample", "0"]);
        Assert.False(File.Exists(outFile));
    }
}

/// <summary><c>eval inpaint</c> and <c>eval img2img</c> on the tiny image model: the report's lines, and what it refuses.</summary>
[Collection(ImageCliCollection.Name)]
public class InpaintEvalCliTests(TrainedImageModel trained)
{
    [Fact]
    public void EvalInpaintReportsAgreementBaselineAndUnchangedKnownPixels()
    {
        var cache = trained.NewFolder();
        var result = RunOk("eval", "inpaint", "--model", trained.Model, "--region", "center", "--n", "6", "--steps", "4", "--jump-length", "2", "--resample", "2",
            "--cache-dir", cache);
        Assert.Contains("inpainting the center square of", result.Stdout);
        Assert.Contains("6 NFE an image", result.Stdout);
        Assert.Matches(@"label agreement\s+\d+\.\d+ ?%", result.Stdout);
        Assert.Matches(@"mean-image fill\s+\d+\.\d+ ?%", result.Stdout);
        Assert.Contains("known pixels         identical to the input", result.Stdout);
    }

    [Fact]
    public void EvalImg2ImgWritesTheStrengthTable()
    {
        var cache = trained.NewFolder();
        var result = RunOk("eval", "img2img", "--model", trained.Model, "--strengths", "0.25,1", "--n", "5", "--steps", "4", "--cache-dir", cache, "--precision", "fp32");
        var rows = result.Stdout.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+(0\.25|1)\s+\d+\s")).ToArray();
        Assert.Equal(2, rows.Length);
        double Distance(string row) => double.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("1", rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.True(Distance(rows[0]) < Distance(rows[1]), result.Stdout);
    }

    [Theory]
    [InlineData("img2img", "--strengths", "0.5,0", "strengths in (0, 1]")]
    [InlineData("inpaint", "--region", "middle", "unknown mask region 'middle'")]
    // RePaint's options belong to eval inpaint: eval quality does not know them ("Unrecognized command or argument '--jump-length'.").
    [InlineData("quality", "--jump-length", "3", "'--jump-length'")]
    public void BadInpaintOptionsAreOneLineErrors(string evaluation, string option, string value, string fragment)
    {
        var result = Run("eval", evaluation, "--model", trained.Model, option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(fragment, Assert.Single(result.StderrLines));
    }

    [Fact]
    public void MaskRegionsCutTheirPart()
    {
        using var lower = Diffuse.Editing.MaskRegions.Mask(Diffuse.Editing.MaskRegion.Lower, 28, 28);
        Assert.Equal(392, lower.sum().item<float>());
        Assert.Equal(0, lower[0, 13, 5].item<float>());
        Assert.Equal(1, lower[0, 14, 5].item<float>());
        using var center = Diffuse.Editing.MaskRegions.Mask(Diffuse.Editing.MaskRegion.Center, 28, 28);
        Assert.Equal(196, center.sum().item<float>());
        using var left = Diffuse.Editing.MaskRegions.Mask(Diffuse.Editing.MaskRegion.Left, 28, 28);
        Assert.Equal(1, left[0, 20, 13].item<float>());
        Assert.Equal(0, left[0, 20, 14].item<float>());
    }
}
