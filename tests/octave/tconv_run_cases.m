function tconv_run_cases(file)
% TCONV_RUN_CASES  Runs the cases of one test file (a function returning an
% N x 2 cell of {name, handle}), each in try/catch so that one failure does
% not stop the others. Prints "PASS file/name" or "FAIL file/name: why" per
% case, then "file: N passed, M failed", and exits with status 1 when any
% case failed (scripts/test-octave.sh adds the files up).
  cases = feval(file);
  passed = 0;
  failed = 0;
  for i = 1:size(cases, 1)
    name = cases{i, 1};
    try
      cases{i, 2}();
      passed = passed + 1;
      printf('PASS %s/%s\n', file, name);
    catch err
      failed = failed + 1;
      msg = strrep(err.message, sprintf('\n'), ' | ');
      printf('FAIL %s/%s: %s (%s)\n', file, name, msg, err.identifier);
      for k = 1:min(numel(err.stack), 3)
        printf('     at %s line %d\n', err.stack(k).name, err.stack(k).line);
      end
    end
  end
  printf('%s: %d cases passed, %d failed\n', file, passed, failed);
  exit(failed > 0);
end
