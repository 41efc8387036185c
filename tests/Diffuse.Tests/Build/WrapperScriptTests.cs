using System.Diagnostics;
using Diffuse.Tests.IO;
using Xunit;

namespace Diffuse.Tests.Build;

/// <summary>
/// Issue 20: the repository's <c>./diffuse</c> wrapper builds only when a source is newer than the binary. Run on a copy
/// of the script in a small fake checkout whose <c>dotnet</c> only records that it was called and writes the binary.
/// </summary>
public class WrapperScriptTests
{
    static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Diffuse.slnx"))) return Path.Combine(dir.FullName, "diffuse");
        throw new InvalidOperationException("the repository root (Diffuse.slnx) is not above the test binaries");
    }

    sealed class FakeCheckout : IDisposable
    {
        readonly TempFolder folder = new();

        public FakeCheckout()
        {
            File.Copy(Script(), Root("diffuse"));
            Directory.CreateDirectory(Root("src/Diffuse.Cli"));
            Directory.CreateDirectory(Root("build"));
            Directory.CreateDirectory(Root("fake"));
            File.WriteAllText(Root("src/Diffuse.Cli/Diffuse.Cli.csproj"), "<Project />");
            File.WriteAllText(Root("src/Diffuse.Cli/Program.cs"), "// code");
            File.WriteAllText(Root("build/Fix.targets"), "<Project />");
            File.WriteAllText(Root("Directory.Build.props"), "<Project />");
            // The fake dotnet: counts its calls and writes a binary that prints its arguments.
            File.WriteAllText(Root("fake/dotnet"), $"""
                #!/usr/bin/env bash
                echo build >> "{Root("builds.log")}"
                mkdir -p "{Root("src/Diffuse.Cli/bin/Release/net10.0")}"
                printf '#!/usr/bin/env bash\necho "ran $*"\n' > "{Binary}"
                chmod +x "{Binary}"
                """);
            foreach (var script in new[] { Root("diffuse"), Root("fake/dotnet") })
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public string Root(string relative) => Path.Combine(folder.Path, relative);

        public string Binary => Root("src/Diffuse.Cli/bin/Release/net10.0/Diffuse.Cli");

        public int Builds => File.Exists(Root("builds.log")) ? File.ReadAllLines(Root("builds.log")).Length : 0;

        public string Run(params string[] args)
        {
            var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Root("diffuse"));
            foreach (var a in args) info.ArgumentList.Add(a);
            info.Environment["PATH"] = $"{Root("fake")}:{Environment.GetEnvironmentVariable("PATH")}";
            using var process = System.Diagnostics.Process.Start(info)!;
            string output = process.StandardOutput.ReadToEnd();
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"./diffuse exited {process.ExitCode}: {errors}");
            return output.Trim();
        }

        /// <summary>Makes <paramref name="relative"/> newer than the binary (both in the past, so that a build's binary is newer again).</summary>
        public void Touch(string relative)
        {
            File.SetLastWriteTimeUtc(Binary, DateTime.UtcNow.AddSeconds(-10));
            File.SetLastWriteTimeUtc(Root(relative), DateTime.UtcNow.AddSeconds(-5));
        }

        public void Dispose() => folder.Dispose();
    }

    [Fact]
    public void TheWrapperBuildsOnlyWhenASourceIsNewerThanTheBinary()
    {
        if (OperatingSystem.IsWindows()) return; // a bash script
        using var checkout = new FakeCheckout();

        Assert.Equal("ran info --n 2", checkout.Run("info", "--n", "2"));
        Assert.Equal(1, checkout.Builds);
        Assert.Equal("ran info", checkout.Run("info"));
        Assert.Equal(1, checkout.Builds);

        foreach (var source in new[] { "src/Diffuse.Cli/Program.cs", "build/Fix.targets", "Directory.Build.props" })
        {
            int before = checkout.Builds;
            checkout.Touch(source);
            checkout.Run("info");
            Assert.Equal(before + 1, checkout.Builds);
            checkout.Run("info");
            Assert.Equal(before + 1, checkout.Builds);
        }

        // Build outputs are not sources.
        Directory.CreateDirectory(checkout.Root("src/Diffuse.Cli/obj"));
        File.WriteAllText(checkout.Root("src/Diffuse.Cli/obj/project.assets.json"), "{}");
        File.SetLastWriteTimeUtc(checkout.Root("src/Diffuse.Cli/obj/project.assets.json"), DateTime.UtcNow.AddMinutes(1));
        int built = checkout.Builds;
        checkout.Run("info");
        Assert.Equal(built, checkout.Builds);
    }
}
